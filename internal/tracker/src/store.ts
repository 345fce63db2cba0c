// Session storage with an in-memory fallback. A full quota or a browser that
// blocks storage must not stop tracking on this page; it only loses what the
// next page load could have re-sent.

const memory = new Map<string, string>();

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function read(key: string): string | null {
  const value = memory.get(key);
  if (value !== undefined) return value;
  try {
    return storage()?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

export function write(key: string, value: string): void {
  try {
    storage()!.setItem(key, value);
    memory.delete(key);
  } catch {
    memory.set(key, value);
  }
}

export function remove(key: string): void {
  memory.delete(key);
  try {
    storage()?.removeItem(key);
  } catch {
    // Nothing stored, nothing to remove.
  }
}

// keys lists the stored keys that start with prefix.
export function keys(prefix: string): string[] {
  const found = new Set<string>();
  memory.forEach((_, key) => {
    if (key.startsWith(prefix)) found.add(key);
  });
  try {
    const s = storage();
    for (let i = 0; s && i < s.length; i++) {
      const key = s.key(i);
      if (key && key.startsWith(prefix)) found.add(key);
    }
  } catch {
    // Storage is blocked: memory is all there is.
  }
  return Array.from(found);
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

// randomId returns 16 lowercase hex digits of a random, non-zero 64-bit number.
export function randomId(): string {
  const words = new Uint32Array(2);
  do {
    try {
      crypto.getRandomValues(words);
    } catch {
      words[0] = Math.random() * 0x100000000;
      words[1] = Math.random() * 0x100000000;
    }
  } while (!words[0] && !words[1]);
  return hex8(words[0]) + hex8(words[1]);
}

export const isId = (s: unknown): s is string =>
  typeof s === 'string' && /^[0-9a-f]{16}$/.test(s) && s !== '0000000000000000';

// Small DOM helpers shared by the page scripts.

// el makes an element with a class and, optionally, its text.
export function el(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (text) node.textContent = text;
  return node;
}

// loading returns the message shown while root loads (the style sheet adds
// a spinner to it): the one the server rendered in root, or a new one.
export function loading(root: HTMLElement, text: string): HTMLElement {
  let box = root.querySelector<HTMLElement>(':scope > .loading');
  if (!box) {
    box = el('p', 'loading', text);
    root.appendChild(box);
  }
  box.setAttribute('role', 'status');
  return box;
}

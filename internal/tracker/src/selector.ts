// How many elements a selector climbs at most before it gives up on reaching
// an id or <body>; deeper selectors break on the smallest layout change anyway.
const MAX_DEPTH = 12;

const escape = (s: string): string =>
  typeof CSS !== 'undefined' && CSS.escape ? CSS.escape(s) : s.replace(/[^\w-]/g, '\\$&');

// clicked returns the element a click is attributed to. Inside an SVG image
// that is the outermost <svg>: the boxes of paths and groups are irregular
// and change whenever the icon is redrawn.
export function clicked(node: EventTarget | null): Element | null {
  let el: Element | null =
    node instanceof Element ? node : node instanceof Node ? node.parentElement : null;
  while (el instanceof SVGElement && el.ownerSVGElement) el = el.ownerSVGElement;
  return el;
}

// selector returns a CSS selector for el that stays valid across page loads:
// the nearest id, then child steps down to el, each a tag name with
// :nth-of-type when the parent has more than one child of that tag.
export function selector(el: Element): string {
  const steps: string[] = [];
  let cur: Element | null = el;
  for (let depth = 0; cur && depth < MAX_DEPTH; depth++) {
    const id = cur.id;
    if (id && cur.ownerDocument.getElementById(id) === cur) {
      steps.push('#' + escape(id));
      break;
    }
    const tag = cur.localName;
    const parent: Element | null = cur.parentElement;
    if (!parent || tag === 'body' || tag === 'html') {
      steps.push(tag);
      break;
    }
    let nth = 0;
    let same = 0;
    for (let c = parent.firstElementChild; c; c = c.nextElementSibling) {
      if (c.localName !== tag) continue;
      same++;
      if (c === cur) nth = same;
    }
    steps.push(same > 1 ? `${escape(tag)}:nth-of-type(${nth})` : escape(tag));
    cur = parent;
  }
  return steps.reverse().join(' > ');
}

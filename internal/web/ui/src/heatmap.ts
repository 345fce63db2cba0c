// The heatmap page: rebuilds a recorded snapshot of the page in a sandboxed
// iframe (no scripts run in it) at the width it was recorded at, tall enough
// to show the whole document, and draws the heat of clicks, mouse moves or
// scroll depth on <canvas id="heat-canvas"> laid over it. Canvas pixel (x, y)
// is page coordinate (x, y) in CSS pixels; the stage as a whole is scaled
// down with a CSS transform to fit narrow screens.
//
// #heatmap[data-state] is loading, then ready, empty or error; when ready,
// data-placed counts the click cells placed on their element by selector and
// data-fallback those placed at their recorded page coordinates instead.

import { createCache, createMirror, rebuildIntoSandboxedIframe } from 'rrweb-snapshot';
import { el, loading } from './dom';
import { type Depth, type Spot, drawHeat, drawScroll, rampCSS } from './heat';

interface Snapshot {
  width?: number;
  height?: number;
  events?: Array<{ type: number; data: unknown }>;
}

// A ClickCell is the clicks on one element at one spot inside it: offsets are
// fractions of the element's box, x and y the average page coordinates.
interface ClickCell {
  selector: string;
  offset_x: number;
  offset_y: number;
  count: number;
  x?: number;
  y?: number;
}

interface Point {
  x: number;
  y: number;
  count: number;
}

interface Heat {
  total?: number;
  page_views?: number;
  elements?: ClickCell[] | null;
  points?: Point[] | null;
  depths?: Depth[] | null;
}

type SerializedNode = Parameters<typeof rebuildIntoSandboxedIframe>[0];

const FULL_SNAPSHOT = 2;
const META = 4;

// Limits of the canvas: browsers refuse larger ones, each pixel takes four
// bytes, and the first screens of a page are what a heatmap is read for.
const MAX_HEIGHT = 30000;
const MAX_AREA = 40e6;

// A viewport length: a number and one of the vh/vw/vmin/vmax units, with the
// small, large and dynamic variants (svh, lvh, dvh, …); not when the number
// is part of a name, such as a class ".mt-5vh" or a file "hero-50vw.jpg".
const VIEWPORT_UNIT = /(?<![\w\\[.-])(-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)([sld]?)(vh|vw|vmin|vmax)\b/gi;

// pinViewportUnits rewrites the viewport units of the snapshot's style sheets,
// <style> texts and style attributes into the pixels they were for the visitor.
// The page is shown in a frame as tall as the whole document, so a
// "height: 100vh" hero would otherwise grow with the frame, push everything
// below it down, and clicks would no longer land where they were made.
function pinViewportUnits(root: SerializedNode, width: number, height: number): void {
  const px = (_: string, value: string, _variant: string, unit: string): string => {
    const n = parseFloat(value);
    let base = height;
    switch (unit.toLowerCase()) {
      case 'vw':
        base = width;
        break;
      case 'vmin':
        base = Math.min(width, height);
        break;
      case 'vmax':
        base = Math.max(width, height);
        break;
    }
    return `${Math.round(n * base) / 100}px`;
  };
  const fix = (css: string): string => css.replace(VIEWPORT_UNIT, px);
  type Node = {
    textContent?: string;
    isStyle?: boolean;
    attributes?: Record<string, unknown>;
    childNodes?: Node[];
  };
  const stack: Node[] = [root as unknown as Node];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.isStyle && typeof node.textContent === 'string') {
      node.textContent = fix(node.textContent);
    }
    const attrs = node.attributes;
    if (attrs) {
      for (const name of ['_cssText', 'style']) {
        const v = attrs[name];
        if (typeof v === 'string') attrs[name] = fix(v);
      }
    }
    if (node.childNodes) stack.push(...node.childNodes);
  }
}

// blobRadius is the radius of a blob in page pixels: a wider page is seen
// from further away, so its blobs are larger, within bounds. Moves come in
// 10-pixel cells and get a little more.
function blobRadius(pageWidth: number, type: string): number {
  const r = Math.min(36, Math.max(16, Math.round(pageWidth / 80)));
  return type === 'move' ? Math.round(r * 1.2) : r;
}

// NotFound marks an answer the page explains rather than reports as a fault.
class NotFound extends Error {}

const root = document.getElementById('heatmap');
if (root) void start(root);

async function start(root: HTMLElement): Promise<void> {
  const type = root.dataset.type || 'click';
  const download = document.querySelector<HTMLButtonElement>('#download-png');
  if (download) download.disabled = true;
  setState(root, 'loading');
  const spinner = loading(root, 'Loading the heatmap…');

  let snapshot: Snapshot;
  let heat: Heat;
  try {
    [snapshot, heat] = await Promise.all([
      getJSON<Snapshot>(root.dataset.snapshot, 'the page snapshot'),
      getJSON<Heat>(root.dataset.heat, 'the heatmap data'),
    ]);
  } catch (err) {
    spinner.remove();
    if (err instanceof NotFound) {
      message(root, 'empty', 'No recorded snapshot of this page on this device yet. ' +
        'It appears after a recorded visit to the page.');
      setState(root, 'empty');
      return;
    }
    fail(root, err);
    return;
  }

  let stage: Stage;
  try {
    stage = new Stage(root, snapshot, heat, type);
  } catch (err) {
    spinner.remove();
    fail(root, err);
    return;
  }
  spinner.remove();
  await stage.layout();
  legend(root, type, stage);
  if (stage.total() === 0) {
    message(root, 'empty', emptyText(type));
    setState(root, 'empty');
    return;
  }
  setState(root, 'ready');
  if (download) {
    download.disabled = false;
    download.addEventListener('click', () => stage.download(type));
  }
}

function emptyText(type: string): string {
  switch (type) {
    case 'move':
      return 'No mouse movement recorded on this page for this device and period.';
    case 'scroll':
      return 'No page views recorded on this page for this device and period.';
    default:
      return 'No clicks recorded on this page for this device and period.';
  }
}

// Stage is the rebuilt page and its heat layer, scaled to fit #heatmap.
class Stage {
  readonly canvas: HTMLCanvasElement;
  private readonly viewport: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly iframe: HTMLIFrameElement;
  private readonly width: number;
  private readonly fold: number;
  private height: number;
  private scale = 1;
  placed = 0;
  fallback = 0;

  constructor(
    private readonly root: HTMLElement,
    snapshot: Snapshot,
    private readonly heat: Heat,
    private readonly type: string,
  ) {
    const events = Array.isArray(snapshot.events) ? snapshot.events : [];
    const full = events.find((e) => e && e.type === FULL_SNAPSHOT);
    const node = (full?.data as { node?: SerializedNode } | undefined)?.node;
    if (!node) throw new Error('the snapshot holds no page');
    const meta = events.find((e) => e && e.type === META)?.data as
      | { width?: number; height?: number }
      | undefined;
    this.width = Math.round(snapshot.width || meta?.width || 1280);
    this.fold = Math.round(snapshot.height || meta?.height || 800);
    this.height = this.fold;

    pinViewportUnits(node, this.width, this.fold);

    this.viewport = el('div', 'heat-viewport');
    this.stage = el('div', 'heat-stage');
    this.stage.style.width = `${this.width}px`;
    this.viewport.appendChild(this.stage);
    root.appendChild(this.viewport);

    const { iframe } = rebuildIntoSandboxedIframe(node, {
      root: this.stage,
      cache: createCache(),
      mirror: createMirror(),
      iframeAttributes: {
        class: 'heat-page',
        title: 'Recorded page',
        scrolling: 'no',
        tabindex: '-1',
        width: String(this.width),
        height: String(this.height),
      },
    });
    this.iframe = iframe;
    this.inert();

    this.canvas = document.querySelector<HTMLCanvasElement>('canvas#heat-canvas') ||
      document.createElement('canvas');
    this.canvas.id = 'heat-canvas';
    this.canvas.className = 'heat-canvas';
    this.stage.appendChild(this.canvas);

    new ResizeObserver(() => this.fit()).observe(root);
  }

  // inert keeps the rebuilt page still and from taking focus, and lays the
  // heat out again when an image or style sheet inside it finishes loading
  // and moves things.
  private inert(): void {
    const doc = this.iframe.contentDocument;
    if (!doc) return;
    // Scripts do not run in the frame, so the browser would show the
    // <noscript> elements the rebuild turns scripts into; blocked elements
    // show as the boxes they were; animations hold still.
    const style = doc.createElement('style');
    style.textContent =
      'noscript{display:none!important}.rr-block{background:currentColor}' +
      '*,*::before,*::after{animation-play-state:paused!important}';
    (doc.head || doc.documentElement)?.appendChild(style);
    let pending = 0;
    const again = () => {
      clearTimeout(pending);
      pending = window.setTimeout(() => void this.layout(), 150);
    };
    doc.addEventListener('load', again, true);
    doc.addEventListener('error', again, true);
    doc.querySelectorAll('a, button, input, select, textarea, [tabindex]').forEach((n) => {
      n.setAttribute('tabindex', '-1');
    });
  }

  total(): number {
    if (this.type === 'scroll') return this.heat.page_views || 0;
    if (typeof this.heat.total === 'number') return this.heat.total;
    return (this.heat.points || []).reduce((n, p) => n + p.count, 0);
  }

  // layout measures the rebuilt document, sizes the iframe and the canvas to
  // it, and draws the heat.
  async layout(): Promise<void> {
    await frames(2);
    const doc = this.iframe.contentDocument;
    for (let i = 0; i < 2 && doc; i++) {
      const full = Math.max(
        doc.documentElement?.scrollHeight || 0,
        doc.body?.scrollHeight || 0,
        this.fold,
      );
      const height = Math.min(MAX_HEIGHT, Math.floor(MAX_AREA / this.width), Math.ceil(full));
      if (height === this.height && i > 0) break;
      this.height = height;
      this.iframe.height = String(height);
      this.iframe.style.height = `${height}px`;
      await frames(1);
    }
    this.iframe.style.width = `${this.width}px`;
    this.stage.style.height = `${this.height}px`;
    this.canvas.width = this.width;
    this.canvas.height = this.height;
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    this.fit();
    this.draw();
  }

  // fit scales the stage down (never up) to the width of #heatmap.
  private fit(): void {
    const available = this.root.clientWidth;
    const scale = available > 0 ? Math.min(1, available / this.width) : 1;
    const changed = Math.abs(scale - this.scale) > 0.001;
    this.scale = scale;
    this.stage.style.transform = `scale(${scale})`;
    this.viewport.style.height = `${Math.ceil(this.height * scale)}px`;
    this.root.style.setProperty('--heat-scale', String(scale));
    // Ruler labels keep their size on screen, so the scroll map redraws.
    if (changed && this.type === 'scroll' && this.canvas.width > 0) this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    if (this.type === 'scroll') {
      const font = Math.min(64, Math.max(12, 12 / this.scale));
      drawScroll(ctx, this.heat.depths || [], font, this.fold);
    } else if (this.type === 'click' && this.heat.elements && this.heat.elements.length > 0) {
      drawHeat(ctx, this.placeClicks(this.heat.elements), blobRadius(this.width, 'click'));
    } else {
      // Moves, and clicks from before elements were counted, are page
      // coordinates already.
      const spots = (this.heat.points || []).map((p) => ({ x: p.x, y: p.y, weight: p.count }));
      drawHeat(ctx, spots, blobRadius(this.width, this.type));
      this.placed = this.fallback = 0;
    }
    this.root.dataset.placed = String(this.placed);
    this.root.dataset.fallback = String(this.fallback);
  }

  // placeClicks finds each cell's element in the rebuilt page and puts the
  // cell at its offset inside the element's box; a cell whose selector
  // matches nothing visible goes at its recorded page coordinates.
  private placeClicks(cells: ClickCell[]): Spot[] {
    const doc = this.iframe.contentDocument;
    const win = this.iframe.contentWindow;
    const scrollX = win?.scrollX || 0;
    const scrollY = win?.scrollY || 0;
    const spots: Spot[] = [];
    let placed = 0;
    let fallback = 0;
    for (const cell of cells) {
      const box = doc ? elementBox(doc, cell.selector) : null;
      if (box) {
        placed++;
        spots.push({
          x: box.left + scrollX + clamp01(cell.offset_x) * box.width,
          y: box.top + scrollY + clamp01(cell.offset_y) * box.height,
          weight: cell.count,
        });
      } else if (typeof cell.x === 'number' && typeof cell.y === 'number') {
        fallback++;
        spots.push({ x: cell.x, y: cell.y, weight: cell.count });
      }
    }
    this.placed = placed;
    this.fallback = fallback;
    return spots;
  }

  download(type: string): void {
    this.canvas.toBlob((blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `heatmap-${type}.png`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }, 'image/png');
  }
}

// elementBox returns the box of the first element selector matches, or null
// when none does, the selector is not valid CSS, or the element takes no
// space (hidden when the snapshot was taken).
function elementBox(doc: Document, selector: string): DOMRect | null {
  if (!selector) return null;
  let found: Element | null;
  try {
    found = doc.querySelector(selector);
  } catch {
    return null;
  }
  if (!found) return null;
  const box = found.getBoundingClientRect();
  return box.width > 0 || box.height > 0 ? box : null;
}

// legend shows the colour ramp and what the page does not say already: the
// total when the page has no #heat-total, and how many click spots stand
// where they were clicked because their element is not in the snapshot.
function legend(root: HTMLElement, type: string, stage: Stage): void {
  let box = document.getElementById('heat-legend');
  if (!box) {
    box = el('div', 'heat-legend');
    box.id = 'heat-legend';
    root.insertBefore(box, root.firstChild);
  }
  const count = (n: number, one: string, many: string) =>
    `${n.toLocaleString()} ${n === 1 ? one : many}`;
  const scroll = type === 'scroll';

  const ramp = el('div', 'heat-ramp');
  const bar = el('span', 'heat-ramp-bar');
  bar.style.background = rampCSS('to right');
  ramp.append(
    el('span', 'heat-ramp-low', scroll ? 'few visitors reached' : 'fewer'),
    bar,
    el('span', 'heat-ramp-high', scroll ? 'every visitor reached' : 'more'),
  );

  const notes: string[] = [];
  if (!document.getElementById('heat-total')) {
    const total = stage.total();
    if (scroll) notes.push(count(total, 'page view', 'page views'));
    else if (type === 'move') notes.push(count(total, 'mouse position', 'mouse positions'));
    else notes.push(count(total, 'click', 'clicks'));
  }
  if (type === 'click' && stage.fallback > 0) {
    notes.push(`${count(stage.fallback, 'spot', 'spots')} placed where clicked: ` +
      'the element is not in this snapshot');
  }
  box.textContent = '';
  box.append(ramp);
  if (notes.length > 0) box.append(el('p', 'heat-note', notes.join(' · ')));
}

async function getJSON<T>(url: string | undefined, what: string): Promise<T> {
  if (!url) throw new Error(`no address for ${what}`);
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (res.status === 404) throw new NotFound(`${what} was not found`);
  if (!res.ok) throw new Error(`${what} could not be loaded (HTTP ${res.status})`);
  return (await res.json()) as T;
}

function setState(root: HTMLElement, state: string): void {
  root.dataset.state = state;
  if (state === 'loading') root.setAttribute('aria-busy', 'true');
  else root.removeAttribute('aria-busy');
}

function message(root: HTMLElement, className: string, text: string): void {
  const p = el('p', className);
  p.textContent = text;
  root.insertBefore(p, root.querySelector('.heat-viewport'));
}

function fail(root: HTMLElement, err: unknown): void {
  root.querySelector('.loading')?.remove();
  let box = root.querySelector<HTMLElement>('.error');
  if (!box) {
    box = el('p', 'error');
    root.appendChild(box);
  }
  box.textContent = `Cannot show this heatmap: ${err instanceof Error ? err.message : String(err)}`;
  setState(root, 'error');
}

function frames(n: number): Promise<void> {
  return new Promise((resolve) => {
    const step = () => (--n <= 0 ? resolve() : requestAnimationFrame(step));
    requestAnimationFrame(step);
  });
}

function clamp01(v: number): number {
  return isFinite(v) ? Math.min(1, Math.max(0, v)) : 0.5;
}

// Drawing of heat layers on a canvas whose pixels are page coordinates in CSS
// pixels: blobs of alpha added up, then coloured from blue (little) through
// green and yellow to red (most), and the bands of a scroll map.

// A Spot is one blob of heat at a page coordinate; weight is its count.
export interface Spot {
  x: number;
  y: number;
  weight: number;
}

// A Depth is the share (0..1) of page views that reached depth per cent of
// the page.
export interface Depth {
  depth: number;
  share: number;
}

// The colour ramp of every heat layer and of its legend.
export const RAMP: Array<[number, string]> = [
  [0, '#1d4ed8'],
  [0.35, '#16a34a'],
  [0.65, '#facc15'],
  [1, '#dc2626'],
];

// The most opaque a heat pixel gets, so the page stays readable beneath.
const MAX_ALPHA = 215;

// The faintest blob: a spot counted once among thousands still shows.
const MIN_WEIGHT = 0.08;

let paletteCache: Uint8ClampedArray | null = null;

// palette returns 256 RGBA colours along RAMP.
function palette(): Uint8ClampedArray {
  if (paletteCache) return paletteCache;
  const canvas = document.createElement('canvas');
  canvas.width = 256;
  canvas.height = 1;
  const ctx = canvas.getContext('2d')!;
  const gradient = ctx.createLinearGradient(0, 0, 256, 0);
  for (const [at, colour] of RAMP) gradient.addColorStop(at, colour);
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, 256, 1);
  paletteCache = ctx.getImageData(0, 0, 256, 1).data;
  return paletteCache;
}

// rampCSS is RAMP as a CSS linear gradient, for legends.
export function rampCSS(direction: string): string {
  const stops = RAMP.map(([at, colour]) => `${colour} ${Math.round(at * 100)}%`);
  return `linear-gradient(${direction}, ${stops.join(', ')})`;
}

// blob draws one soft round spot of full alpha at its centre.
function blob(radius: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = radius * 2;
  const ctx = canvas.getContext('2d')!;
  const gradient = ctx.createRadialGradient(radius, radius, 0, radius, radius, radius);
  gradient.addColorStop(0, 'rgba(0,0,0,1)');
  gradient.addColorStop(0.45, 'rgba(0,0,0,0.55)');
  gradient.addColorStop(1, 'rgba(0,0,0,0)');
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, radius * 2, radius * 2);
  return canvas;
}

// drawHeat clears ctx's canvas and draws spots on it: each spot's alpha is
// its weight over the heaviest spot's, overlapping spots add up, and the
// summed alpha picks the colour.
export function drawHeat(ctx: CanvasRenderingContext2D, spots: Spot[], radius: number): void {
  const { width, height } = ctx.canvas;
  ctx.clearRect(0, 0, width, height);
  const max = spots.reduce((m, s) => Math.max(m, s.weight), 0);
  if (max <= 0) return;

  const stamp = blob(radius);
  let left = width;
  let top = height;
  let right = 0;
  let bottom = 0;
  ctx.save();
  for (const s of spots) {
    if (s.weight <= 0 || !isFinite(s.x) || !isFinite(s.y)) continue;
    ctx.globalAlpha = Math.max(MIN_WEIGHT, s.weight / max);
    ctx.drawImage(stamp, s.x - radius, s.y - radius);
    left = Math.min(left, s.x - radius);
    top = Math.min(top, s.y - radius);
    right = Math.max(right, s.x + radius);
    bottom = Math.max(bottom, s.y + radius);
  }
  ctx.restore();

  // Colour only the box the spots cover: a long page is millions of pixels.
  const x0 = Math.max(0, Math.floor(left));
  const y0 = Math.max(0, Math.floor(top));
  const w = Math.min(width, Math.ceil(right)) - x0;
  const h = Math.min(height, Math.ceil(bottom)) - y0;
  if (w <= 0 || h <= 0) return;
  const image = ctx.getImageData(x0, y0, w, h);
  const px = image.data;
  const colours = palette();
  for (let i = 3; i < px.length; i += 4) {
    const a = px[i];
    if (a === 0) continue;
    const c = a * 4;
    px[i - 3] = colours[c];
    px[i - 2] = colours[c + 1];
    px[i - 1] = colours[c + 2];
    px[i] = Math.min(MAX_ALPHA, a * 1.15 + 20);
  }
  ctx.putImageData(image, x0, y0);
}

// shareAt returns the share of page views that reached depth per cent,
// from depths sorted by depth: the nearest recorded depth at or above it,
// since reaching further down means having passed here.
export function shareAt(depths: Depth[], depth: number): number {
  for (const d of depths) {
    if (d.depth >= depth) return d.share;
  }
  return depths.length ? depths[depths.length - 1].share : 0;
}

// drawScroll colours the page in one band per per cent of its height by the
// share of page views that reached it, and draws a ruler every 10 % on the
// left. fontSize is in canvas pixels, so labels can stay legible when the
// canvas is shown scaled down. fold is the height of the recorded viewport.
export function drawScroll(
  ctx: CanvasRenderingContext2D,
  depths: Depth[],
  fontSize: number,
  fold: number,
): void {
  const { width, height } = ctx.canvas;
  ctx.clearRect(0, 0, width, height);
  const sorted = depths
    .filter((d) => isFinite(d.depth) && isFinite(d.share))
    .sort((a, b) => a.depth - b.depth);
  if (sorted.length === 0) return;
  const colours = palette();

  for (let p = 0; p < 100; p++) {
    const share = Math.min(1, Math.max(0, shareAt(sorted, p)));
    const c = Math.round(share * 255) * 4;
    const y0 = Math.floor((p / 100) * height);
    const y1 = Math.floor(((p + 1) / 100) * height);
    ctx.fillStyle = `rgba(${colours[c]},${colours[c + 1]},${colours[c + 2]},0.42)`;
    ctx.fillRect(0, y0, width, y1 - y0);
  }

  ctx.save();
  ctx.font = `600 ${fontSize}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
  ctx.textBaseline = 'middle';
  const pad = fontSize * 0.4;
  const line = Math.max(1, fontSize / 12);
  for (let p = 0; p <= 100; p += 10) {
    const y = Math.min(height - line, Math.round((p / 100) * height));
    ctx.fillStyle = 'rgba(17,24,39,0.55)';
    ctx.fillRect(0, y, width, line);
    const label = `${p} % · ${Math.round(shareAt(sorted, p) * 100)} % of visitors`;
    const boxW = ctx.measureText(label).width + pad * 2;
    const boxH = fontSize + pad * 2;
    const top = Math.max(0, Math.min(height - boxH, y - boxH / 2));
    ctx.fillStyle = 'rgba(17,24,39,0.85)';
    ctx.fillRect(0, top, boxW, boxH);
    ctx.fillStyle = '#fff';
    ctx.fillText(label, pad, top + boxH / 2);
  }
  if (fold > 0 && fold < height) {
    ctx.setLineDash([fontSize, fontSize / 2]);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = line * 2;
    ctx.beginPath();
    ctx.moveTo(0, fold);
    ctx.lineTo(width, fold);
    ctx.stroke();
    const label = 'fold';
    const boxW = ctx.measureText(label).width + pad * 2;
    ctx.fillStyle = 'rgba(17,24,39,0.85)';
    ctx.fillRect(width - boxW, fold - fontSize - pad * 2, boxW, fontSize + pad * 2);
    ctx.fillStyle = '#fff';
    ctx.fillText(label, width - boxW + pad, fold - fontSize / 2 - pad);
  }
  ctx.restore();
}

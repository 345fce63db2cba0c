import { keys, read, remove, write } from './store';

// A batch on its way to POST /i. Its body is the JSON without "sent", which
// is stamped at each attempt so the server measures the clock offset of the
// attempt, not of the batch's birth.
interface Batch {
  key: string;
  session: string;
  seq: number;
  body: string;
  // beacons counts unconfirmed sendBeacon deliveries over all page loads; the
  // second one ends the batch's life so that pages which never live long
  // enough for an answer do not re-send it forever.
  beacons: number;
  // gone marks a batch handed to a beacon on this page; it is not posted again
  // here, only by the next page load.
  gone?: boolean;
  // posting marks a fetch in flight.
  posting?: boolean;
  // zip is the compression of the body after its opening brace, started when
  // the batch is made; gz is its result once there, undefined when the
  // browser cannot compress.
  zip?: Promise<unknown>;
  gz?: BlobPart;
}

// The largest body handed to a beacon, in bytes. Chromium lets the requests
// that outlive a page (beacons, keepalive fetches) carry 64 KiB of body in
// flight in all, per page: one beacon of the most leaves room for another of
// the analytics.
const BEACON_MAX = 60000;
// Unconfirmed batches kept at most, in characters, oldest dropped first.
const PENDING_MAX = 4 << 20;
// Characters of batches a page did not make itself that it compresses ahead,
// in the background, for its way out; and characters it compresses at most on
// the main thread as it goes away, for batches whose compression in the
// background has not finished. Beyond, a batch waits for a later page.
const AHEAD_MAX = 512 * 1024;
const BACKOFF_MIN = 1000;
const BACKOFF_MAX = 60000;

const ignore = (): undefined => undefined;

// gzip compresses text in the background when the browser can. The text is
// written to the stream and the result read from it directly: a detour
// through Blob.stream() and Response.blob() takes noticeably longer, and
// the sooner a compressed copy is ready, the quicker a visitor can leave
// with it.
function gzip(text: string): Promise<BlobPart | undefined> {
  try {
    const zip = new CompressionStream('gzip');
    const writer = zip.writable.getWriter();
    writer.write(new TextEncoder().encode(text)).catch(ignore);
    writer.close().catch(ignore);
    const reader = zip.readable.getReader();
    const parts: BlobPart[] = [];
    const read = (): Promise<BlobPart> =>
      reader.read().then((r) => (r.done ? new Blob(parts) : (parts.push(r.value), read())));
    return read().catch(ignore);
  } catch {
    return Promise.resolve(undefined);
  }
}

const crc32 = (s: string): number => {
  let c = -1;
  for (let i = 0; i < s.length; i++) {
    c ^= s.charCodeAt(i);
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
};

// stored makes a gzip member of one uncompressed block holding s, ASCII
// text of less than 64 KiB, at once. A gzip body may be several members in a
// row, read as one text: it puts a fresh "sent" before a body compressed
// once, in the background, so that a beacon can carry it the moment the
// page goes away.
function stored(s: string): BlobPart {
  const n = s.length;
  const out = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255, 1, n & 255, n >> 8, ~n & 255, (~n >> 8) & 255];
  for (let i = 0; i < n; i++) out.push(s.charCodeAt(i));
  for (const word of [crc32(s), n]) for (let k = 0; k < 32; k += 8) out.push((word >>> k) & 255);
  return new Uint8Array(out);
}

// analytics reports whether a batch carries analytics events, not only
// recording: its "ev", the first array of the body, is not empty.
const analytics = (batch: Batch): boolean => batch.body[batch.body.indexOf('[') + 1] !== ']';

// settled reports whether an answer ends a batch's life: accepted, or
// refused in a way a retry cannot change. 429 and 5xx are worth a retry.
const settled = (status: number): boolean =>
  (status >= 200 && status < 300) || (status >= 400 && status < 500 && status !== 429);

// Sender keeps every batch in session storage until the server accepts it and
// posts them one at a time, with exponential backoff after failures.
export class Sender {
  private queue: Batch[] = [];
  private failures = 0;
  private timer = 0;
  private busy = false;

  constructor(
    private readonly endpoint: string,
    private readonly site: string,
    private readonly prefix: string,
  ) {}

  // restore reads the batches earlier pages of this tab left unconfirmed, and
  // compresses those never beaconed, which go first on this page's way out.
  restore(): void {
    this.queue = [];
    for (const key of keys(this.prefix)) {
      const m = /([0-9a-f]{16}):(\d+)$/.exec(key);
      const value = read(key);
      if (!m || !value) {
        remove(key);
        continue;
      }
      const beacons = +value[0] || 0;
      this.queue.push({ key, session: m[1], seq: +m[2], beacons, body: value.slice(1) });
    }
    this.queue.sort((a, b) => a.seq - b.seq);
    let left = AHEAD_MAX;
    for (const b of this.queue) if (!b.beacons && (left -= b.body.length) >= 0) this.zip(b);
  }

  // add stores a batch and starts compressing it, so that a compressed body
  // is ready for a beacon should the page go away before the batch is sent.
  add(session: string, seq: number, body: string): void {
    const batch: Batch = { key: this.prefix + session + ':' + seq, session, seq, body, beacons: 0 };
    this.queue.push(batch);
    this.save(batch);
    this.trim();
    this.zip(batch);
  }

  // pump posts the oldest batch not yet handed to a beacon, unless a post is
  // in flight or a backoff is running. One an earlier page beaconed most
  // likely arrived: it is confirmed after those that surely did not.
  pump(): void {
    if (this.busy || this.timer) return;
    const ready = this.queue.filter((b) => !b.gone && !b.posting);
    const batch = ready.find((b) => !b.beacons) || ready[0];
    if (!batch) return;
    this.busy = true;
    this.post(batch).then((status) => {
      this.busy = false;
      if (settled(status)) {
        this.failures = 0;
        this.pump();
        return;
      }
      this.failures++;
      const wait = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** this.failures);
      this.timer = window.setTimeout(() => {
        this.timer = 0;
        this.pump();
      }, wait * (0.5 + Math.random() / 2));
    });
  }

  // unload hands batches to beacons while the page goes away, as many as the
  // browser takes: those with analytics first, then recording in order, and
  // those an earlier page already beaconed last. A body goes compressed when
  // its compression is done, as it is for a batch made a moment before; else
  // as it is, which suits the small batches made on the way out. A body too
  // large for a beacon whose compression has not finished (the visitor left
  // within moments of the full snapshot) is compressed at once with squeeze,
  // when given, within AHEAD_MAX. What no beacon takes stays stored for the
  // next page load.
  unload(squeeze?: (text: string) => BlobPart): void {
    let left = AHEAD_MAX;
    const order = this.queue
      .filter((b) => !b.gone)
      .sort(
        (a, b) =>
          +!!a.beacons - +!!b.beacons || +analytics(b) - +analytics(a) || a.seq - b.seq,
      );
    for (const batch of order) {
      // A text longer than BEACON_MAX characters is longer in bytes.
      if (!batch.gz && batch.body.length > BEACON_MAX) {
        if (!squeeze || batch.body.length > left) continue;
        left -= batch.body.length;
        try {
          batch.gz = squeeze(batch.body.slice(1));
        } catch {
          continue;
        }
      }
      const body = this.body(batch);
      if (body.size > BEACON_MAX || !this.beacon(batch, body)) continue;
      batch.gone = true;
      batch.beacons++;
      if (batch.beacons > 1) this.drop(batch);
      else this.save(batch);
    }
  }

  // visible runs when a hidden page comes back: its beacons had a live page
  // to leave from, so they are trusted rather than sent a second time.
  visible(): void {
    for (const batch of this.queue.slice()) if (batch.gone) this.drop(batch);
  }

  private beacon(batch: Batch, body: Blob): boolean {
    try {
      return navigator.sendBeacon(this.url(batch), body);
    } catch {
      return false;
    }
  }

  // post sends one batch and resolves to the answer's status, 0 when there
  // was none; a settling answer removes the batch.
  private post(batch: Batch): Promise<number> {
    batch.posting = true;
    return this.zip(batch)
      .then(() =>
        fetch(this.url(batch), { method: 'POST', body: this.body(batch), credentials: 'omit' }),
      )
      .then(
        (res) => res.status,
        () => 0,
      )
      .then((status) => {
        batch.posting = false;
        if (settled(status)) this.drop(batch);
        return status;
      });
  }

  private zip(batch: Batch): Promise<unknown> {
    return (batch.zip =
      batch.zip || gzip(batch.body.slice(1)).then((gz) => (batch.gz = batch.gz || gz)));
  }

  // body is what one attempt sends: the batch stamped with the time, gzip
  // compressed when its compression is done. It is typed text/plain so the
  // request stays simple (no CORS preflight); the server recognises gzip by
  // its magic bytes.
  private body(batch: Batch): Blob {
    const head = '{"sent":' + Date.now() + ',';
    return new Blob(batch.gz ? [stored(head), batch.gz] : [head + batch.body.slice(1)], {
      type: 'text/plain',
    });
  }

  private url(batch: Batch): string {
    const site = encodeURIComponent(this.site);
    return `${this.endpoint}/i?k=${site}&s=${batch.session}&n=${batch.seq}`;
  }

  private save(batch: Batch): void {
    write(batch.key, batch.beacons + batch.body);
  }

  private drop(batch: Batch): void {
    const i = this.queue.indexOf(batch);
    if (i >= 0) this.queue.splice(i, 1);
    remove(batch.key);
  }

  private trim(): void {
    let total = 0;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      total += this.queue[i].body.length;
      if (total > PENDING_MAX && i < this.queue.length - 1) this.drop(this.queue[i]);
    }
  }
}

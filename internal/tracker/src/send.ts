import { keys, read, remove, write } from './store';

// A batch on its way to POST /i. Its body is the JSON without "sent", which
// is stamped at each attempt so the server measures the clock offset of the
// attempt, not of the batch's birth.
interface Batch {
  key: string;
  session: string;
  seq: number;
  body: string;
  // beacons counts unconfirmed sendBeacon/keepalive deliveries over all page
  // loads; the second one ends the batch's life so that pages which never
  // live long enough for an answer do not re-send it forever.
  beacons: number;
  // gone marks a batch handed to a beacon on this page; it is not posted again
  // here, only by the next page load.
  gone?: boolean;
  // posting marks a fetch in flight.
  posting?: boolean;
}

// Beacons and keepalive requests share a 64 KiB budget in browsers; leave room
// for the URL and headers.
const BEACON_MAX = 60000;
// Unconfirmed batches kept at most, in characters, oldest dropped first.
const PENDING_MAX = 4 << 20;
const BACKOFF_MIN = 1000;
const BACKOFF_MAX = 60000;

// gzip compresses body when the browser can, in the background. The result
// is typed text/plain so the request stays simple (no CORS preflight); the
// server recognises gzip by its magic bytes.
function gzip(body: string): Promise<Blob | string> {
  if (typeof CompressionStream !== 'function') return Promise.resolve(body);
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).blob().then(
    (b) => new Blob([b], { type: 'text/plain' }),
    () => body,
  );
}

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

  // restore reads the batches earlier pages of this tab left unconfirmed.
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
  }

  add(session: string, seq: number, body: string): void {
    const batch: Batch = { key: this.prefix + session + ':' + seq, session, seq, body, beacons: 0 };
    this.queue.push(batch);
    this.save(batch);
    this.trim();
  }

  // pump posts the oldest batch not yet handed to a beacon, unless a post is
  // in flight or a backoff is running.
  pump(): void {
    if (this.busy || this.timer) return;
    const batch = this.queue.find((b) => !b.gone && !b.posting);
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

  // unload hands every batch to the browser while the page goes away: a
  // beacon for small bodies (sent uncompressed, since compressing needs a
  // wait the page may not get), a plain fetch for large ones, which stay
  // stored until answered.
  unload(): void {
    for (const batch of this.queue.slice()) {
      if (batch.gone) continue;
      const body = new Blob([this.stamp(batch)], { type: 'text/plain' });
      if (body.size < BEACON_MAX && this.beacon(batch, body)) {
        batch.gone = true;
        batch.beacons++;
        if (batch.beacons > 1) this.drop(batch);
        else this.save(batch);
      } else if (!batch.posting) {
        this.post(batch);
      }
    }
  }

  // visible runs when a hidden page comes back: its beacons had a live page
  // to leave from, so they are trusted rather than sent a second time.
  visible(): void {
    for (const batch of this.queue.slice()) if (batch.gone) this.drop(batch);
    this.pump();
  }

  private beacon(batch: Batch, body: Blob): boolean {
    const url = this.url(batch);
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return true;
    } catch {
      // Fall through to fetch.
    }
    try {
      fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit' }).then(
        (res) => settled(res.status) && this.drop(batch),
        () => undefined,
      );
      return true;
    } catch {
      return false;
    }
  }

  // post sends one batch and resolves to the answer's status, 0 when there
  // was none; a settling answer removes the batch.
  private post(batch: Batch): Promise<number> {
    batch.posting = true;
    return gzip(this.stamp(batch))
      .then((body) => fetch(this.url(batch), { method: 'POST', body, credentials: 'omit' }))
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

  private url(batch: Batch): string {
    const site = encodeURIComponent(this.site);
    return `${this.endpoint}/i?k=${site}&s=${batch.session}&n=${batch.seq}`;
  }

  private stamp(batch: Batch): string {
    return '{"sent":' + Date.now() + ',' + batch.body.slice(1);
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

// The core tracker, /t/core.{hash}.js. It turns what a visitor does into the
// events of docs/protocol.md, gathers them into batches and hands the batches
// to the Sender. Nothing it does may throw into the page: every entry point
// from the browser goes through safe().

import { isId, randomId } from './ids';
import { clicked, selector } from './selector';
import { Sender } from './send';
import type { LoupeWindow, Recorder, Settings } from './settings';
import { read, write } from './store';

// A session ends after this long without activity.
const IDLE = 30 * 60 * 1000;
const FLUSH_EVERY = 5000;
// The first batch of a page load goes this soon, or as soon as the recorder's
// full snapshot is there: a visitor who leaves within seconds is common, and
// a batch already sent is one less thing to squeeze into the beacons of the
// way out.
const FIRST_FLUSH = 1000;
// A click after which nothing changes for this long is dead.
const DEAD_AFTER = 1000;
// A focus or mutation this long before a click's pointerdown is not its doing.
const PRESS_MAX = 2000;
const MOVE_EVERY = 100;
const MOVE_POINTS_MAX = 300;
const ERRORS_MAX = 20;
// Recording events per batch, in characters of JSON.
const REC_MAX = 512 * 1024;
// Characters of JSON in a batch that must fit a beacon uncompressed: one
// carrying analytics events, or made as the page goes away. Below
// BEACON_MAX, which counts bytes, for text that is not ASCII.
const SMALL_MAX = 48 * 1024;
// Custom event properties and traits larger than this are dropped.
const PROPS_MAX = 4096;

// TrackedEvent is one entry of a batch's "ev" array.
type TrackedEvent = Record<string, unknown>;

// Session is the state a tab keeps in session storage, shared by its pages.
interface Session {
  id: string;
  seq: number; // last batch number used
  pid: number; // last page view number used
  last: number; // time of the last activity
  rec: boolean; // sampled for recording
}

interface Click {
  event: TrackedEvent;
  // since is when the press began: changes from then on count for the click.
  since: number;
  timer: number;
}

function safe<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch {
      // The page comes first; a lost event is the price.
    }
  };
}

function start(w: LoupeWindow, cfg: Settings): void {
  const doc = document;
  const loc = location;
  const now = Date.now;
  const prefix = 'loupe:' + cfg.site + ':';
  const sessionKey = prefix + 's';
  const sample = Math.min(1, Math.max(0, +(cfg.sample ?? 0) || 0));
  const sender = new Sender(cfg.endpoint.replace(/\/+$/, ''), cfg.site, prefix + 'b:');

  let session: Session;
  let pid = 0;
  let url = '';
  let events: TrackedEvent[] = [];
  let rec: string[] = [];
  let recSize = 0;
  let soon = 0;
  let moves: number[][] = [];
  let moveStart = 0;
  let moveLast = 0;
  // The deepest the viewport's bottom edge went, in pixels from the top; the
  // percentage is taken against the document's height when it is sent, so
  // that a page still growing (images, lazy content) is not over-counted.
  let reach = 0;
  let reachAt = 0;
  let depthSent = 0;
  let errors = 0;
  let clicks: Click[] = [];
  let pressAt = 0;
  let changedAt = 0;
  let focusAt = 0;
  let observer: MutationObserver | null = null;
  let recorder: Recorder | null = null;
  let recorderLoading = false;

  const on = (target: EventTarget, type: string, fn: (e: never) => void, capture = false): void =>
    target.addEventListener(type, safe(fn) as EventListener, { capture, passive: true });

  const pageSize = (): [number, number] => {
    const d = doc.documentElement;
    const b = doc.body;
    return [
      Math.max(d.scrollWidth, b ? b.scrollWidth : 0),
      Math.max(d.scrollHeight, b ? b.scrollHeight : 0),
    ];
  };

  // Session state.

  const loadSession = (): Session | null => {
    try {
      const s = JSON.parse(read(sessionKey) || 'null');
      if (!s || !isId(s.id)) return null;
      return { id: s.id, seq: +s.seq || 0, pid: +s.pid || 0, last: +s.last || 0, rec: !!s.rec };
    } catch {
      return null;
    }
  };

  const newSession = (): Session => ({
    id: randomId(),
    seq: 0,
    pid: 0,
    last: now(),
    rec: Math.random() < sample,
  });

  const saveSession = (): void => write(sessionKey, JSON.stringify(session));

  // next takes the next number of a counter, re-reading storage first: a page
  // restored from the back/forward cache must not reuse numbers another page
  // of this tab took meanwhile.
  const next = (field: 'seq' | 'pid'): number => {
    const stored = loadSession();
    if (stored && stored.id === session.id) {
      session[field] = Math.max(session[field], stored[field]);
    }
    session[field]++;
    saveSession();
    return session[field];
  };

  const visitor = (): string | undefined => {
    const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
    if (cfg.dnt && (nav.doNotTrack === '1' || nav.globalPrivacyControl === true)) return undefined;
    try {
      let vid = localStorage.getItem('loupe:vid');
      if (!isId(vid)) localStorage.setItem('loupe:vid', (vid = randomId()));
      return vid;
    } catch {
      return undefined;
    }
  };
  const vid = visitor();

  // touch records activity; after a long pause it closes the session and
  // starts a new one on the current page.
  const touch = (): void => {
    const t = now();
    if (t - session.last > IDLE) {
      flush(false);
      session = newSession();
      saveSession();
      pageview('');
      record();
    }
    session.last = t;
  };

  // Page views, scroll depth and pointer moves.

  const measure = (): void => {
    const bottom = scrollY + innerHeight;
    if (bottom > reach) {
      reach = bottom;
      reachAt = now();
    }
  };

  const pushScroll = (): void => {
    const ph = pageSize()[1];
    const depth = ph ? Math.min(100, Math.round((reach / ph) * 100)) : 0;
    if (depth <= depthSent) return;
    events.push({ type: 'scroll', t: reachAt, pid, depth, ph });
    depthSent = depth;
  };

  const pushMoves = (): void => {
    if (!moves.length) return;
    const [pw, ph] = pageSize();
    events.push({ type: 'move', t: moveStart, pid, vw: innerWidth, pw, ph, pts: moves });
    moves = [];
  };

  const pageview = (ref: string): void => {
    pushScroll();
    pushMoves();
    pid = next('pid');
    url = loc.href;
    reach = depthSent = errors = 0;
    events.push({
      type: 'pageview',
      t: now(),
      pid,
      url,
      ref,
      title: doc.title,
      vw: innerWidth,
      vh: innerHeight,
      sw: screen.width,
      sh: screen.height,
    });
    measure();
  };

  // route starts a page view when the URL changed, whichever of pushState,
  // replaceState, popstate or hashchange noticed it first.
  const route = (): void => {
    touch();
    if (loc.href === url) return;
    changedAt = now();
    pageview(url);
  };

  const scrolled = (e: Event): void => {
    changedAt = now();
    if (e.target !== doc) return;
    touch();
    measure();
  };

  const moved = (e: MouseEvent): void => {
    const t = now();
    if (t - moveLast < MOVE_EVERY) return;
    moveLast = t;
    touch();
    if (moves.length >= MOVE_POINTS_MAX) pushMoves();
    if (!moves.length) moveStart = t;
    moves.push([Math.round(e.pageX), Math.round(e.pageY), t - moveStart]);
  };

  // Clicks, and whether anything happened after them.

  const watch = (): void => {
    if (observer || typeof MutationObserver !== 'function') return;
    observer = new MutationObserver(() => (changedAt = now()));
    observer.observe(doc, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
  };

  const settle = (click: Click, alive: boolean): void => {
    clearTimeout(click.timer);
    clicks = clicks.filter((c) => c !== click);
    const t = click.event.t as number;
    click.event.dead = !(alive || changedAt >= click.since || focusAt >= t);
    events.push(click.event);
    if (!clicks.length && observer) {
      observer.disconnect();
      observer = null;
    }
  };

  const press = (): void => {
    pressAt = now();
    watch();
  };

  const click = (e: MouseEvent): void => {
    // Keyboard "clicks" have no position; untrusted ones are the page's own.
    if (!e.isTrusted || (!e.detail && !e.clientX && !e.clientY)) return;
    const el = clicked(e.target);
    if (!el) return;
    touch();
    const t = now();
    const box = el.getBoundingClientRect();
    const [pw, ph] = pageSize();
    const part = (offset: number, size: number): number =>
      size > 0 ? Math.round(Math.min(1, Math.max(0, offset / size)) * 1e4) / 1e4 : 0;
    const event: TrackedEvent = {
      type: 'click',
      t,
      pid,
      sel: selector(el),
      ox: part(e.clientX - box.left, box.width),
      oy: part(e.clientY - box.top, box.height),
      x: Math.round(e.pageX),
      y: Math.round(e.pageY),
      vw: innerWidth,
      pw,
      ph,
      dead: false,
    };
    watch();
    const pending: Click = {
      event,
      since: t - pressAt < PRESS_MAX ? pressAt : t,
      timer: window.setTimeout(safe(() => settle(pending, false)), DEAD_AFTER),
    };
    clicks.push(pending);
  };

  // Focusing a field is what a click on it is for; focusing a button or link
  // is a side effect of pressing it, so it only counts after the click.
  const focused = (e: FocusEvent): void => {
    const el = e.target as HTMLElement;
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable) changedAt = now();
    else focusAt = now();
  };

  // A collapsed selection is just a caret put where the pointer landed.
  const selected = (): void => {
    const s = doc.getSelection();
    if (s && !s.isCollapsed) changedAt = now();
  };

  // Errors, custom events and identities.

  const error = (msg: unknown, src: unknown, line: unknown, col: unknown): void => {
    if (errors >= ERRORS_MAX) return;
    errors++;
    events.push({
      type: 'error',
      t: now(),
      pid,
      msg: String(msg).slice(0, 1000),
      src: String(src || '').slice(0, 500),
      line: +(line as number) || 0,
      col: +(col as number) || 0,
    });
  };

  const plain = (v: unknown): unknown => {
    try {
      const json = JSON.stringify(v);
      return json && json[0] === '{' && json.length <= PROPS_MAX ? JSON.parse(json) : undefined;
    } catch {
      return undefined;
    }
  };

  const api = (command: unknown, a?: unknown, b?: unknown): void => {
    if (a == null || a === '') return;
    touch();
    const name = String(a).slice(0, 200);
    if (command === 'event') {
      events.push({ type: 'event', t: now(), pid, name, props: plain(b) });
    } else if (command === 'identify') {
      events.push({ type: 'identify', t: now(), pid, id: name, traits: plain(b) });
    }
  };

  // Recording.

  const emit = (event: unknown): void => {
    // An expired session records nothing; the next activity starts a new
    // session and a new full snapshot.
    if (now() - session.last > IDLE) return;
    const json = JSON.stringify(event);
    rec.push(json);
    recSize += json.length;
    // A full snapshot (type 2) is what a replay cannot do without, and often
    // larger than a beacon takes: it is made a batch at once, which starts
    // its compression, so that a compressed copy is ready as soon as can be
    // should the visitor leave before it is sent.
    if ((event as { type?: unknown }).type === 2) flush(false);
    else if (recSize >= REC_MAX) later(0);
  };

  const begin = (): void => {
    if (w.__loupeRecord && session.rec && !recorder) {
      recorder = w.__loupeRecord({ maskText: !!cfg.maskText }, safe(emit)) || null;
    }
  };

  const record = (): void => {
    if (!session.rec || !cfg.recorder) {
      if (recorder) recorder.stop();
      recorder = null;
    } else if (recorder) {
      recorder.snap();
    } else if (w.__loupeRecord) {
      begin();
    } else if (!recorderLoading) {
      recorderLoading = true;
      const script = doc.createElement('script');
      script.async = true;
      script.src = cfg.recorder;
      script.onload = safe(begin);
      (doc.head || doc.documentElement).appendChild(script);
    }
  };

  // Batches.

  // pack cuts a list of JSON texts into runs of at most max characters; a
  // text larger than max makes a run of its own.
  const pack = (items: string[], max: number): string[][] => {
    const runs: string[][] = [];
    let size = max;
    for (const item of items) {
      if (size + item.length > max) {
        runs.push([]);
        size = 0;
      }
      runs[runs.length - 1].push(item);
      size += item.length + 1;
    }
    return runs;
  };

  // flush turns what was gathered into batches and sends them; unload means
  // the page is going away. Analytics events travel in batches small enough
  // for a beacon uncompressed, so that no page view, click or scroll is ever
  // stuck behind a recording too large to leave with the page. On the way
  // out they go alone, and first; otherwise the last of them takes recording
  // events up to that size. The rest of the recording goes in batches of up
  // to REC_MAX, or beacon-sized ones on the way out.
  const flush = (unload: boolean): void => {
    clearTimeout(soon);
    soon = 0;
    if (unload) clicks.slice().forEach((c) => settle(c, true));
    measure();
    pushScroll();
    pushMoves();
    const batches = pack(events.map((e) => JSON.stringify(e)), SMALL_MAX).map((ev) => [ev, []]);
    let i = 0;
    if (!unload && batches.length) {
      const last = batches[batches.length - 1];
      let size = last[0].join().length;
      while (i < rec.length && size + rec[i].length < SMALL_MAX) size += rec[i++].length + 1;
      last[1] = rec.slice(0, i);
    }
    for (const run of pack(rec.slice(i), unload ? SMALL_MAX : REC_MAX)) batches.push([[], run]);
    events = [];
    rec = [];
    recSize = 0;
    for (const [ev, recs] of batches) {
      const body =
        '{' +
        (vid ? '"vid":"' + vid + '",' : '') +
        '"ev":[' +
        ev.join(',') +
        '],"rec":[' +
        recs.join(',') +
        ']}';
      sender.add(session.id, next('seq'), body);
    }
    saveSession();
    if (unload) sender.unload(recorder ? recorder.gzip : undefined);
    else sender.pump();
  };

  // later flushes in ms milliseconds, instead of when it was due to.
  const later = (ms: number): void => {
    clearTimeout(soon);
    soon = window.setTimeout(safe(() => flush(false)), ms);
  };

  // A hidden page may live on: what no beacon took goes the usual way.
  const hidden = (): void => {
    if (doc.visibilityState === 'hidden') flush(true);
    else sender.visible();
    sender.pump();
  };

  // A page restored from the back/forward cache is a new page view, and the
  // tab's storage may have moved on while it slept.
  const shown = (e: PageTransitionEvent): void => {
    if (!e.persisted) return;
    session = loadSession() || session;
    sender.restore();
    url = '';
    route();
    later(FIRST_FLUSH);
    sender.pump();
  };

  // Start.

  session = loadSession() || newSession();
  if (now() - session.last > IDLE) session = newSession();
  session.last = now();
  saveSession();
  sender.restore();
  pageview(doc.referrer);

  const queued = w.loupe && w.loupe.q;
  w.loupe = safe(api);
  for (let i = 0; queued && i < queued.length; i++) {
    const args = queued[i];
    safe(api)(args[0], args[1], args[2]);
  }

  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args);
      safe(route)();
      return result;
    };
  }
  on(w, 'popstate', route);
  on(w, 'hashchange', route);
  on(w, 'scroll', scrolled, true);
  on(doc, 'mousemove', moved, true);
  on(doc, 'pointerdown', press, true);
  on(doc, 'click', click, true);
  on(doc, 'keydown', touch, true);
  on(doc, 'focusin', focused, true);
  on(doc, 'selectionchange', selected);
  on(doc, 'input', () => (changedAt = now()), true);
  on(doc, 'change', () => (changedAt = now()), true);
  on(w, 'error', (e: ErrorEvent) => {
    if (e instanceof ErrorEvent && e.message) error(e.message, e.filename, e.lineno, e.colno);
  });
  on(w, 'unhandledrejection', (e: PromiseRejectionEvent) => {
    const r = e.reason;
    error(r instanceof Error ? r.name + ': ' + r.message : r, '', 0, 0);
  });
  on(doc, 'visibilitychange', hidden);
  on(w, 'pagehide', () => flush(true));
  on(w, 'pageshow', shown);
  window.setInterval(safe(() => flush(false)), FLUSH_EVERY);

  later(FIRST_FLUSH);
  record();
  sender.pump();
}

safe(() => {
  const w = window as LoupeWindow;
  const cfg = w.__loupe;
  if (w.__loupeCore || !cfg || !cfg.site || typeof cfg.endpoint !== 'string') return;
  w.__loupeCore = true;
  // A page the browser prerenders may never be shown: it is a page view only
  // once it is.
  const doc = document as Document & { prerendering?: boolean };
  if (doc.prerendering) {
    doc.addEventListener('prerenderingchange', safe(() => start(w, cfg)), { once: true });
  } else {
    start(w, cfg);
  }
})();

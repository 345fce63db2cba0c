// The replay page: plays one recording with rrweb's Replayer inside #player,
// scaled to the width of the page, with play/pause, speeds, skipping of
// inactive stretches, a timeline with the session's marks and a list of the
// pages to jump to. The DOM it works on is described in the dashboard
// contract (docs: "Replay page").
//
// #player[data-state] is loading, ready or error; #player[data-current] is
// the position in milliseconds from the recording's start and
// #player[data-playback-speed] the chosen speed, so that tests (and styles) can follow
// the playback.

import { Replayer } from '@rrweb/replay';
import { el, loading } from './dom';
import { clock } from './time';

// RecordedEvent is what this page reads of an rrweb event; the replayer
// reads the rest.
interface RecordedEvent {
  type: number;
  timestamp: number;
  data: unknown;
}

type ReplayerEvents = ConstructorParameters<typeof Replayer>[0];

interface Mark {
  t: number;
  kind: string;
  label?: string;
}

// rrweb's event types that matter here.
const FULL_SNAPSHOT = 2;
const META = 4;

const player = document.getElementById('player');
if (player) void start(player);

async function start(root: HTMLElement): Promise<void> {
  root.dataset.state = 'loading';
  root.setAttribute('aria-busy', 'true');
  const spinner = loading(root, 'Loading the recording…');

  let events: RecordedEvent[];
  try {
    events = await fetchRecording(root.dataset.recording || '');
  } catch (err) {
    fail(root, err);
    return;
  }

  const frame = el('div', 'player-frame');
  const stage = el('div', 'player-stage');
  stage.appendChild(frame);
  root.appendChild(stage);

  let replayer: Replayer;
  try {
    replayer = new Replayer(events as unknown as ReplayerEvents, {
      root: frame,
      skipInactive: true,
      showWarning: false,
      mouseTail: false,
      // A recording must not reach the dashboard's own page.
      UNSAFE_replayCanvas: false,
    });
  } catch (err) {
    fail(root, err);
    return;
  }

  const ready = () => {
    spinner.remove();
    root.removeAttribute('aria-busy');
    root.dataset.state = 'ready';
    const play = document.querySelector<HTMLButtonElement>('#play');
    if (play) play.disabled = false;
  };
  // The replayer builds the first full snapshot just after it is made;
  // before that there is nothing to show.
  let built = false;
  replayer.on('fullsnapshot-rebuilded', () => {
    if (built) return;
    built = true;
    ready();
  });

  fitToWidth(root, stage, frame, replayer, events);
  new Controls(root, replayer);
}

async function fetchRecording(url: string): Promise<RecordedEvent[]> {
  if (!url) throw new Error('no recording to play');
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`the recording could not be loaded (HTTP ${res.status})`);
  const events = (await res.json()) as unknown;
  if (!Array.isArray(events) || events.length === 0) {
    throw new Error('this recording has no events');
  }
  const list = events as RecordedEvent[];
  if (!list.some((e) => e && e.type === FULL_SNAPSHOT)) {
    throw new Error('this recording has no page snapshot to start from');
  }
  return list;
}

function fail(root: HTMLElement, err: unknown): void {
  root.querySelector('.loading')?.remove();
  root.removeAttribute('aria-busy');
  root.dataset.state = 'error';
  const message = err instanceof Error ? err.message : String(err);
  let box = root.querySelector<HTMLElement>('.error');
  if (!box) {
    box = el('p', 'error');
    root.appendChild(box);
  }
  box.textContent = `Cannot play this recording: ${message}`;
}

// fitToWidth scales the replayer's viewport down (never up) to the width of
// #player, and sizes the stage to the scaled height, so that a 1440-pixel
// wide recording fits a phone without scrolling sideways.
function fitToWidth(
  root: HTMLElement,
  stage: HTMLElement,
  frame: HTMLElement,
  replayer: Replayer,
  events: RecordedEvent[],
): void {
  const meta = events.find((e) => e.type === META);
  const size = { width: 1024, height: 768 };
  if (meta) {
    const d = meta.data as { width?: number; height?: number };
    size.width = d.width || size.width;
    size.height = d.height || size.height;
  }
  const apply = () => {
    const available = stage.clientWidth || root.clientWidth;
    const scale = Math.min(1, available / size.width);
    frame.style.width = `${size.width}px`;
    frame.style.height = `${size.height}px`;
    frame.style.transform = `scale(${scale})`;
    stage.style.height = `${Math.ceil(size.height * scale)}px`;
    root.style.setProperty('--player-scale', String(scale));
  };
  replayer.on('resize', (dimension) => {
    const d = dimension as { width: number; height: number };
    if (d.width > 0 && d.height > 0) {
      size.width = d.width;
      size.height = d.height;
      apply();
    }
  });
  new ResizeObserver(apply).observe(root);
  apply();
}

const SPEEDS = [1, 2, 4, 8];
const SEEK_STEP_MS = 5000;

// Controls wire the buttons, the timeline and the page list to the replayer,
// and keep the progress shown while it plays.
class Controls {
  private playing = false;
  private finished = false;
  private frame = 0;
  // position is the offset shown, in milliseconds from the start. The
  // replayer's own clock reads nonsense until it first plays.
  private position = 0;
  private readonly start: number;
  private readonly total: number;
  private readonly playButton: HTMLButtonElement | null;
  private readonly progress: HTMLElement | null;
  private readonly time: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly replayer: Replayer,
  ) {
    const meta = replayer.getMetaData();
    this.start = meta.startTime;
    this.total = Math.max(meta.totalTime, 1);
    this.playButton = document.querySelector<HTMLButtonElement>('#play');

    const controls = document.getElementById('controls');
    this.time = document.getElementById('clock') || el('span', 'time');
    if (controls && !this.time.isConnected) controls.appendChild(this.time);

    const timeline = document.getElementById('timeline');
    this.progress = timeline ? this.buildTimeline(timeline) : null;

    this.wirePlay();
    this.wireSpeeds();
    this.wireSkip();
    this.wirePages();
    this.wireKeys();

    // While the replayer skips a quiet stretch, say so.
    replayer.on('skip-start', () => {
      this.root.dataset.skipping = 'true';
    });
    replayer.on('skip-end', () => {
      delete this.root.dataset.skipping;
    });
    replayer.on('finish', () => {
      this.playing = false;
      this.finished = true;
      this.update(this.total);
      this.showPlaying();
    });
    this.update(0);
    this.showPlaying();
  }

  private wirePlay(): void {
    this.playButton?.addEventListener('click', () => this.toggle());
  }

  private wireSpeeds(): void {
    const buttons = document.querySelectorAll<HTMLButtonElement>('#controls [data-speed]');
    const select = (speed: number) => {
      this.replayer.setConfig({ speed });
      this.root.dataset.playbackSpeed = String(speed);
      buttons.forEach((b) => {
        b.setAttribute('aria-pressed', String(Number(b.dataset.speed) === speed));
      });
    };
    buttons.forEach((b) => {
      const speed = Number(b.dataset.speed);
      if (!SPEEDS.includes(speed)) return;
      b.addEventListener('click', () => select(speed));
    });
    select(1);
  }

  private wireSkip(): void {
    const box = document.querySelector<HTMLInputElement>('#skip-inactive');
    if (!box) return;
    this.replayer.setConfig({ skipInactive: box.checked });
    box.addEventListener('change', () => this.replayer.setConfig({ skipInactive: box.checked }));
  }

  private wirePages(): void {
    document.querySelectorAll<HTMLElement>('ol#pages li[data-t]').forEach((li) => {
      const jump = () => this.seek(Number(li.dataset.t) - this.start);
      li.addEventListener('click', (ev) => {
        // A link inside the item still opens the page it names.
        if ((ev.target as Element).closest('a')) return;
        jump();
      });
      // An item without a button of its own takes the focus itself.
      if (li.querySelector('button, a')) return;
      li.tabIndex = 0;
      li.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') jump();
      });
    });
  }

  private wireKeys(): void {
    document.addEventListener('keydown', (ev) => {
      if (ev.key !== ' ' || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const target = ev.target as Element | null;
      // Space belongs to whatever has the focus when that takes typing or
      // is pressed by it.
      if (target && target.closest('input, textarea, select, button, a, [contenteditable]')) return;
      ev.preventDefault();
      this.toggle();
    });
  }

  // buildTimeline fills #timeline with the progress bar and the marks (the
  // server may have rendered the marks already; then they are only placed),
  // and makes a click anywhere on it seek.
  private buildTimeline(timeline: HTMLElement): HTMLElement {
    let progress = timeline.querySelector<HTMLElement>('.progress');
    if (!progress) {
      progress = el('div', 'progress');
      timeline.prepend(progress);
    }
    let marks = Array.from(timeline.querySelectorAll<HTMLElement>('.mark'));
    if (marks.length === 0) {
      marks = readMarks().map((m) => {
        const mark = el('button', 'mark');
        mark.setAttribute('type', 'button');
        mark.dataset.kind = m.kind;
        mark.dataset.t = String(m.t);
        const label = `${m.kind}${m.label ? ': ' + m.label : ''} at ${clock(m.t - this.start)}`;
        mark.title = label;
        mark.setAttribute('aria-label', label);
        timeline.appendChild(mark);
        return mark;
      });
    }
    for (const mark of marks) {
      const offset = Number(mark.dataset.t) - this.start;
      const fraction = Math.min(1, Math.max(0, offset / this.total));
      mark.style.left = `${(fraction * 100).toFixed(3)}%`;
      mark.dataset.fraction = fraction.toFixed(4);
      mark.addEventListener('click', (ev) => {
        ev.stopPropagation();
        this.seek(offset);
      });
    }
    timeline.setAttribute('role', 'slider');
    timeline.setAttribute('aria-label', 'Position in the recording');
    timeline.setAttribute('aria-valuemin', '0');
    timeline.setAttribute('aria-valuemax', String(Math.round(this.total)));
    timeline.addEventListener('click', (ev) => {
      const box = timeline.getBoundingClientRect();
      if (box.width <= 0) return;
      this.seek(((ev.clientX - box.left) / box.width) * this.total);
    });
    // The arrow keys step five seconds, as in most players.
    timeline.tabIndex = 0;
    timeline.addEventListener('keydown', (ev) => {
      const step = ev.key === 'ArrowRight' ? SEEK_STEP_MS : ev.key === 'ArrowLeft' ? -SEEK_STEP_MS : 0;
      if (step === 0) return;
      ev.preventDefault();
      this.seek(this.position + step);
    });
    return progress;
  }

  private toggle(): void {
    if (this.playing) {
      this.replayer.pause();
      this.playing = false;
      this.update(this.replayer.getCurrentTime());
    } else {
      const from = this.finished ? 0 : this.position;
      this.finished = false;
      this.replayer.play(from);
      this.playing = true;
      this.update(from);
      this.tick();
    }
    this.showPlaying();
  }

  private seek(offset: number): void {
    const to = Math.min(this.total, Math.max(0, offset));
    this.finished = false;
    if (this.playing) {
      this.replayer.play(to);
    } else {
      this.replayer.pause(to);
    }
    this.update(to);
  }

  private tick(): void {
    cancelAnimationFrame(this.frame);
    const step = () => {
      if (!this.playing) return;
      this.update(this.replayer.getCurrentTime());
      this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }

  private update(current: number): void {
    const at = Math.min(this.total, Math.max(0, current));
    this.position = at;
    this.root.dataset.current = String(Math.round(at));
    if (this.progress) this.progress.style.width = `${((at / this.total) * 100).toFixed(2)}%`;
    this.progress?.parentElement?.setAttribute('aria-valuenow', String(Math.round(at)));
    this.time.textContent = `${clock(at)} / ${clock(this.total)}`;
  }

  private showPlaying(): void {
    this.root.dataset.playing = String(this.playing);
    if (!this.playButton) return;
    this.playButton.textContent = this.playing ? 'Pause' : 'Play';
    this.playButton.setAttribute('aria-pressed', String(this.playing));
  }
}

function readMarks(): Mark[] {
  const script = document.getElementById('marks');
  if (!script) return [];
  try {
    const marks = JSON.parse(script.textContent || '[]') as unknown;
    if (!Array.isArray(marks)) return [];
    return marks.filter((m): m is Mark => !!m && typeof m.t === 'number');
  } catch {
    return [];
  }
}

// Settings is what the loader (/s/{site}.js) leaves in window.__loupe before
// it inserts the core.
export interface Settings {
  // site is the public site key sent with every batch.
  site: string;
  // endpoint is the base URL of the Loupe server, without a trailing slash.
  endpoint: string;
  // core is the URL of this script; kept for completeness.
  core?: string;
  // recorder is the URL of record.{hash}.js.
  recorder?: string;
  // sample is the share of sessions recorded, 0 to 1.
  sample?: number;
  // maskText masks every text node in recordings, not only inputs.
  maskText?: boolean;
  // dnt makes the tracker honour Do-Not-Track and Global Privacy Control.
  dnt?: boolean;
}

// Recorder is what window.__loupeRecord returns once recording runs.
export interface Recorder {
  stop(): void;
  // snap takes a new full snapshot, used when a new session starts on a
  // page that is already recorded.
  snap(): void;
  // gzip compresses text at once, on the main thread, for a batch that must
  // leave with the page before its compression in the background is done.
  gzip(text: string): BlobPart;
}

// RecorderOptions are the site settings the recorder needs.
export interface RecorderOptions {
  maskText: boolean;
}

export type StartRecorder = (opts: RecorderOptions, emit: (event: unknown) => void) => Recorder;

// LoupeWindow names the globals the loader, the core and the recorder share.
export interface LoupeWindow extends Window {
  __loupe?: Settings;
  __loupeCore?: boolean;
  __loupeRecord?: StartRecorder;
  loupe?: ((...args: unknown[]) => void) & { q?: ArrayLike<unknown>[] };
}

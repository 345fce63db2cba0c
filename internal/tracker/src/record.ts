// The recorder, /t/record.{hash}.js, loaded by the core only for sessions
// sampled for recording. It registers window.__loupeRecord; the core calls it
// with the site's settings and a function that takes each recording event.

import { record } from '@rrweb/record';
import { gzipSync } from 'fflate';
import type { LoupeWindow, StartRecorder } from './settings';

const start: StartRecorder = (opts, emit) => {
  const stop = record({
    emit,
    // Privacy by default: no value typed into any field is recorded, and a
    // site can keep whole elements out of recordings.
    maskAllInputs: true,
    blockSelector: '[data-loupe-block]',
    maskTextSelector: opts.maskText ? '*' : undefined,
    // Scripts, comments and head metadata play no part in a replay.
    slimDOMOptions: true,
    // A failing observer must not throw into the page.
    errorHandler: () => true,
  });
  return {
    stop: () => stop && stop(),
    snap: () => record.takeFullSnapshot(),
    // Only a recorded page makes batches larger than a beacon takes, so the
    // compressor they may need at the last moment comes with the recorder.
    gzip: (text) => gzipSync(new TextEncoder().encode(text)) as Uint8Array<ArrayBuffer>,
  };
};

(window as LoupeWindow).__loupeRecord = start;

// The bare replayer bundle, dist/replay.js, for tests that pause a recording
// at given times; it is never served (the dashboard has its own player).

import { Replayer } from '@rrweb/replay';

(window as unknown as { LoupeReplay: unknown }).LoupeReplay = { Replayer };

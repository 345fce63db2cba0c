// The replayer bundle, dist/replay.js, for the dashboard and the tests; it is
// never served to visitors.

import { Replayer } from '@rrweb/replay';

(window as unknown as { LoupeReplay: unknown }).LoupeReplay = { Replayer };

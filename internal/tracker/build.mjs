// Builds dist/: the core and the recorder served to visitors (each with gzip
// and brotli twins for the server to pick from), and a bare replayer for the
// tests (the dashboard's player is built in internal/web/ui). The output must
// be byte-for-byte the same on every run, so that CI can rebuild it and
// compare with what is committed.
//
//   node build.mjs
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const here = new URL('.', import.meta.url);
const dist = new URL('dist/', here);

// The language of 2018: every browser in use since runs the core; newer
// syntax would save few bytes.
const target = 'es2018';

const rrwebNotice = '/*! rrweb | MIT License | https://github.com/rrweb-io/rrweb */';
const recordNotice =
  rrwebNotice + '\n/*! fflate | MIT License | https://github.com/101arrowz/fflate */';

// The core has a size budget that is a real constraint (see tracker_test.go);
// fail early rather than commit a bundle that breaks it.
const CORE_GZIP_MAX = 8 * 1024;

const bundles = [
  { entry: 'src/core.ts', out: 'core.js', compress: true },
  { entry: 'src/record.ts', out: 'record.js', compress: true, banner: recordNotice },
  { entry: 'src/replay.ts', out: 'replay.js', compress: false, banner: rrwebNotice },
];

function gzip(buf) {
  const out = gzipSync(buf, { level: 9 });
  // The header's OS byte depends on the platform zlib was built for; fix it
  // to "Unix" so the file is the same wherever it is built.
  out[9] = 3;
  return out;
}

function brotli(buf) {
  return brotliCompressSync(buf, {
    params: {
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  });
}

function put(name, buf) {
  writeFileSync(new URL(name, dist), buf);
}

mkdirSync(dist, { recursive: true });

const sizes = [];
for (const b of bundles) {
  const result = await esbuild.build({
    absWorkingDir: here.pathname,
    entryPoints: [b.entry],
    bundle: true,
    minify: true,
    format: 'iife',
    target,
    charset: 'utf8',
    legalComments: 'eof',
    banner: b.banner ? { js: b.banner } : undefined,
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'warning',
  });
  const js = Buffer.from(result.outputFiles[0].contents);
  put(b.out, js);
  const gz = gzip(js);
  if (b.compress) {
    put(b.out + '.gz', gz);
    put(b.out + '.br', brotli(js));
  }
  sizes.push({ name: b.out, bytes: js.length, gzip: gz.length });
  if (b.out === 'core.js' && gz.length > CORE_GZIP_MAX) {
    throw new Error(`core.js is ${gz.length} bytes gzipped, over ${CORE_GZIP_MAX}`);
  }
}

// The replayer's style sheet, minified the same way every time.
const css = await esbuild.build({
  absWorkingDir: here.pathname,
  stdin: {
    contents: readFileSync(new URL('node_modules/@rrweb/replay/dist/style.css', here)),
    loader: 'css',
  },
  minify: true,
  write: false,
  logLevel: 'warning',
});
put('replay.css', Buffer.from(css.outputFiles[0].contents));

for (const s of sizes) {
  console.log(`${s.name.padEnd(10)} ${String(s.bytes).padStart(7)} B, ${s.gzip} B gzipped`);
}

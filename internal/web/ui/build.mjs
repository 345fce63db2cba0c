// Builds dist/: one script per dashboard page (common.js on every page) and
// one style sheet for the whole dashboard, dash.css, which also carries the
// chart's and the replayer's styles. The output must be byte-for-byte the
// same on every run, so that CI can rebuild it and compare with what is
// committed. The Go package compresses and hashes the files when it starts.
//
//   node build.mjs
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const here = new URL('.', import.meta.url);
const dist = new URL('dist/', here);

// The language of 2019: every browser a dashboard user runs has it.
const target = 'es2019';

// rrweb's bundles carry PostCSS, which rrweb-snapshot uses to adapt style
// sheets when it rebuilds a page.
const rrwebNotice =
  '/*! rrweb | MIT License | https://github.com/rrweb-io/rrweb */\n' +
  '/*! PostCSS | MIT License | https://github.com/postcss/postcss */';
const uplotNotice = '/*! uPlot | MIT License | https://github.com/leeoniya/uPlot */';

const scripts = [
  { entry: 'src/common.ts', out: 'common.js' },
  { entry: 'src/overview.ts', out: 'overview.js', banner: uplotNotice },
  { entry: 'src/replay.ts', out: 'replay.js', banner: rrwebNotice },
  { entry: 'src/heatmap.ts', out: 'heatmap.js', banner: rrwebNotice },
];

// dash.css is Loupe's sheet followed by the packages' own, so that a rule of
// Loupe's can override them by being more specific, never by order alone.
const styles = [
  'src/dash.css',
  'node_modules/uplot/dist/uPlot.min.css',
  'node_modules/@rrweb/replay/dist/style.css',
];

// Rebuild from scratch: a file no bundle makes any more must not linger.
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const sizes = [];
function put(name, buf) {
  writeFileSync(new URL(name, dist), buf);
  sizes.push({ name, bytes: buf.length, gzip: gzipSync(buf, { level: 9 }).length });
}

for (const s of scripts) {
  const result = await esbuild.build({
    absWorkingDir: here.pathname,
    entryPoints: [s.entry],
    bundle: true,
    minify: true,
    format: 'iife',
    target,
    charset: 'utf8',
    legalComments: 'eof',
    banner: s.banner ? { js: s.banner } : undefined,
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'warning',
  });
  put(s.out, Buffer.from(result.outputFiles[0].contents));
}

const css = await esbuild.build({
  absWorkingDir: here.pathname,
  stdin: {
    contents: styles.map((f) => readFileSync(new URL(f, here), 'utf8')).join('\n'),
    loader: 'css',
  },
  minify: true,
  target: ['chrome90', 'firefox90', 'safari14'],
  charset: 'utf8',
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});
const sheet = Buffer.from(css.outputFiles[0].contents);
// No web fonts and nothing fetched from elsewhere: data: URLs only.
if (/url\(\s*['"]?(?!data:)/.test(sheet.toString())) {
  throw new Error('dash.css refers to a URL other than data:');
}
put('dash.css', sheet);

const names = readdirSync(dist).sort();
if (names.join() !== sizes.map((s) => s.name).sort().join()) {
  throw new Error(`unexpected files in dist: ${names}`);
}
for (const s of sizes) {
  console.log(`${s.name.padEnd(12)} ${String(s.bytes).padStart(7)} B, ${s.gzip} B gzipped`);
}

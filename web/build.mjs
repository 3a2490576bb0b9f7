// Builds web/dist: hashed, minified ES modules under dist/assets and an index.html that
// loads them. `npm run build`; `node build.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { basename } from 'node:path';

const watch = process.argv.includes('--watch');
rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/assets', { recursive: true });

const favicon =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="16" fill="#b3261e"/>' +
  '<path d="M9 11h14M9 16h14M12 21h8" stroke="#fff" stroke-width="2.6" stroke-linecap="round"/></svg>';

function writeIndex(meta) {
  let js = '';
  let css = '';
  for (const [out, info] of Object.entries(meta.outputs)) {
    if (info.entryPoint === 'src/main.ts') js = '/assets/' + basename(out);
    if (out.endsWith('.css') && basename(out).startsWith('main-')) css = '/assets/' + basename(out);
  }
  const html = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#b3261e">
<title>一站式矛盾纠纷调处 · 远程视频</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
${css ? `<link rel="stylesheet" href="${css}">` : ''}
<script type="module" src="${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>请启用 JavaScript。Please enable JavaScript.</noscript>
</body>
</html>
`;
  writeFileSync('dist/index.html', html);
  writeFileSync('dist/assets/favicon.svg', favicon);
  // Precompressed copies: the Go handler serves them to clients that accept gzip.
  for (const f of readdirSync('dist/assets')) {
    if (!/\.(js|css|svg)$/.test(f)) continue;
    const raw = readFileSync('dist/assets/' + f);
    if (raw.length < 1024) continue;
    writeFileSync('dist/assets/' + f + '.gz', gzipSync(raw, { level: 9 }));
  }
}

// livekit-client is built once into its own module (named by its content hash), and the app
// imports it from there: the big vendor file stays the same from one app change to the next,
// for browsers' caches and for the repository.
// Only what the app imports, so that the SDK is tree-shaken as it would be in one bundle.
function livekitImports(dir) {
  const names = new Set();
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = dir + '/' + f.name;
    if (f.isDirectory()) livekitImports(p).forEach((n) => names.add(n));
    else if (f.name.endsWith('.ts')) {
      const src = readFileSync(p, 'utf8');
      for (const m of src.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*'livekit-client'/g)) {
        if (m[1]) continue; // import type {...}
        for (let n of m[2].split(',')) {
          n = n.trim();
          if (n && !n.startsWith('type ')) names.add(n.split(/\s+as\s+/)[0]);
        }
      }
      if (/import\s+\*\s+as\s+\w+\s+from\s*'livekit-client'|import\s+\w+\s+from\s*'livekit-client'/.test(src)) {
        throw new Error(p + ': import named values from livekit-client (the vendor module exports only those)');
      }
    }
  }
  return names;
}
const lkNames = [...livekitImports('src')].sort();
const vendor = await esbuild.build({
  stdin: { contents: `export { ${lkNames.join(', ')} } from 'livekit-client';`, resolveDir: '.', sourcefile: 'vendor-livekit.js' },
  bundle: true,
  format: 'esm',
  minify: true,
  target: ['es2020', 'chrome90', 'safari15', 'firefox90'],
  outdir: 'dist/assets',
  entryNames: 'livekit-client-2.23.0-[hash]',
  metafile: true,
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  write: true,
});
const vendorFile = basename(Object.keys(vendor.metafile.outputs).find((f) => f.endsWith('.js')));
const vendorPlugin = {
  name: 'vendor-livekit',
  setup(build) {
    build.onResolve({ filter: /^livekit-client$/ }, () => ({ path: './' + vendorFile, external: true }));
  },
};

const opts = {
  entryPoints: ['src/main.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  target: ['es2020', 'chrome90', 'safari15', 'firefox90'],
  outdir: 'dist/assets',
  entryNames: '[name]-[hash]',
  chunkNames: 'c-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  plugins: [
    vendorPlugin,
    {
      name: 'index-html',
      setup(build) {
        build.onEnd((r) => {
          if (r.metafile) writeIndex(r.metafile);
        });
      },
    },
  ],
};

if (watch) {
  const ctx = await esbuild.context(opts);
  await ctx.watch();
} else {
  const r = await esbuild.build(opts);
  let total = 0;
  let gz = 0;
  for (const f of readdirSync('dist/assets')) {
    const n = readFileSync('dist/assets/' + f).length;
    if (f.endsWith('.gz')) gz += n;
    else total += n;
  }
  console.log(`dist/assets: ${(total / 1024).toFixed(1)} KiB minified, ${(gz / 1024).toFixed(1)} KiB gzipped`);
}

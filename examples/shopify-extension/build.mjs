// Bundles both targets the way the Shopify CLI does (ESM, minified, everything inlined: the
// extension runtime provides no modules) so the 64 KB compressed limit can be checked locally.
import {build} from 'esbuild';
import {readFileSync, writeFileSync} from 'node:fs';
import {gzipSync} from 'node:zlib';

const entries = {'thank-you': 'src/ThankYou.js', 'order-status': 'src/OrderStatus.js'};
const result = await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  platform: 'browser',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const sizes = {};
for (const name of Object.keys(entries)) {
  const bytes = readFileSync(`dist/${name}.js`);
  sizes[name] = {raw: bytes.length, gzip: gzipSync(bytes, {level: 9}).length};
}
writeFileSync('dist/sizes.json', JSON.stringify(sizes, null, 2) + '\n');
writeFileSync('dist/meta.json', JSON.stringify(result.metafile));
for (const [name, size] of Object.entries(sizes)) {
  console.log(`${name}.js: ${size.raw} bytes, ${size.gzip} bytes gzip`);
}

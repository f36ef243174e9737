// Builds the two WASM variants of the molrg kernels with AssemblyScript: wasm/dist/molrg.simd.wasm
// (v128 SIMD) and wasm/dist/molrg.scalar.wasm (same sources, the `ASC_FEATURE_SIMD` branches off).
// Usage: node wasm/build.mjs   (npm run build:wasm)
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, 'assembly', 'index.ts');
const dist = join(here, 'dist');
mkdirSync(dist, { recursive: true });

const variants = [
  { name: 'molrg.simd.wasm', flags: ['--enable', 'simd'] },
  { name: 'molrg.scalar.wasm', flags: [] },
];

let failed = false;
for (const { name, flags } of variants) {
  const started = Date.now();
  const out = join(dist, name);
  const { error, stderr } = await asc.main([
    entry, '--outFile', out,
    '--optimizeLevel', '3', '--shrinkLevel', '0', '--noAssert',
    '--runtime', 'incremental',
    ...flags,
  ]);
  if (error) {
    console.error(`asc failed for ${name}: ${error.message}\n${stderr.toString()}`);
    failed = true;
  } else {
    console.log(`built ${relative(process.cwd(), out)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
if (failed) process.exit(1);

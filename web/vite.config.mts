/**
 * The browser demo: a static page (web/index.html) and its Web Worker, on the wasm backend of the
 * browser entry (src/browser.mts). `npm run build:demo` builds web/dist; `npm run demo` builds and
 * serves it on http://127.0.0.1:5173.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
// @ts-expect-error plain ESM helper shared with scripts/build-entries.mjs
import { browserHost } from '../scripts/browser-host.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Digits per class bundled with the demo (the first ones of each class in the `mnist` package). */
const PER_CLASS = 80;

/** src/backend/index.ts imports the Node host; the page gets the browser one (no Node built-ins). */
function browserHostPlugin(): Plugin {
  return {
    name: 'molrg-browser-host',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === './host.js' && importer && /[\\/]src[\\/]backend[\\/]index\.ts$/.test(importer)) return browserHost;
      return null;
    },
  };
}

/** `virtual:mnist-subset`: PER_CLASS digits of each class, read from the mnist package at build time. */
function mnistPlugin(): Plugin {
  const id = 'virtual:mnist-subset';
  return {
    name: 'molrg-mnist-subset',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load(resolved) {
      if (resolved !== `\0${id}`) return null;
      const folder = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
      const pixels = new Uint8Array(10 * PER_CLASS * 784);
      for (let c = 0; c < 10; c++) {
        const data = (JSON.parse(readFileSync(join(folder, `${c}.json`), 'utf8')) as { data: number[] }).data;
        for (let i = 0; i < PER_CLASS * 784; i++) pixels[c * PER_CLASS * 784 + i] = Math.round(255 * data[i]);
      }
      const b64 = Buffer.from(pixels).toString('base64');
      return `const s = atob(${JSON.stringify(b64)});\n` +
        'const pixels = new Uint8Array(s.length);\nfor (let i = 0; i < s.length; i++) pixels[i] = s.charCodeAt(i);\n' +
        `export const digits = { perClass: ${PER_CLASS}, pixels };\n`;
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [browserHostPlugin()],
  worker: { format: 'es', plugins: () => [browserHostPlugin(), mnistPlugin()] },
  build: { outDir: join(here, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1', fs: { allow: [join(here, '..')] } },
  preview: { host: '127.0.0.1', port: 5173 },
});

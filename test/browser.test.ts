/**
 * The browser demo and the kernel table in a real browser: Debian's Chromium (/usr/bin/chromium,
 * installed by .ci/run), driven by playwright-core. Builds the demo once (Vite), serves it on
 * 127.0.0.1, trains a small K = 2 model on the page (wasm backend in a Web Worker), and runs the
 * shared kernel table (test/kernels.test.ts) inside the page on both wasm builds against the js
 * reference. A screenshot goes to test-output/ (not asserted).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

const root = resolve(__dirname, '..');
const CHROMIUM = process.env.MOLRG_CHROMIUM ?? '/usr/bin/chromium';
const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.map': 'application/json', '.png': 'image/png',
};

/** Serves `mounts` (URL prefix -> folder) on 127.0.0.1 at an ephemeral port. */
async function serve(mounts: Record<string, string>): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = Object.keys(mounts).filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
    const rel = prefix === undefined ? '' : normalize(path.slice(prefix.length) || 'index.html').replace(/^(\.\.[/\\])+/, '');
    const file = prefix === undefined ? '' : join(mounts[prefix], rel.endsWith('/') ? `${rel}index.html` : rel);
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The kernel table bundled for the page: the browser variants and assert in place of node's. */
async function bundleKernelTable(out: string): Promise<void> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, 'test', 'kernels.test.ts')],
    outfile: join(out, 'kernels.bundle.js'),
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'warning',
    external: ['node:fs', 'node:path'],
    plugins: [{
      name: 'browser-test-doubles',
      setup(b) {
        b.onResolve({ filter: /^\.\/backends\.js$/ }, () => ({ path: join(root, 'test', 'browser', 'backends.ts') }));
        b.onResolve({ filter: /^node:assert(\/strict)?$/ }, () => ({ path: join(root, 'test', 'browser', 'assert.ts') }));
      },
    }],
  });
  copyFileSync(join(root, 'test', 'browser', 'kernels.html'), join(out, 'index.html'));
  copyFileSync(require.resolve('mocha/mocha.js'), join(out, 'mocha.js'));
  for (const f of ['molrg.simd.wasm', 'molrg.scalar.wasm']) copyFileSync(join(root, 'wasm', 'dist', f), join(out, f));
}

describe('browser (Chromium + playwright-core)', function () {
  this.timeout(120_000);
  let server: Server | undefined;
  let base = '';
  let context: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'molrg-browser-'));

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: the browser tests need Debian's chromium ` +
        '(apt-get update && apt-get install -y --no-install-recommends chromium; .ci/run does this), or MOLRG_CHROMIUM=/path/to/chrome');
    }
    const t0 = Date.now();
    const vite = await import('vite');
    await vite.build({ configFile: join(root, 'web', 'vite.config.mts'), logLevel: 'warn' });
    const kernelsDir = join(tmp, 'kernels');
    mkdirSync(kernelsDir);
    await bundleKernelTable(kernelsDir);
    ({ server, base } = await serve({ '/': join(root, 'web', 'dist'), '/kernels/': kernelsDir }));
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
      viewport: { width: 1280, height: 1800 },
    });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    console.log(`      (demo built, kernel table bundled and Chromium started in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  });

  after(async () => {
    await context?.close();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the demo page starts its worker on the wasm backend', async () => {
    await page.goto(`${base}/`);
    await page.waitForFunction("document.getElementById('status')?.dataset.state === 'idle'", null, { timeout: 30_000 });
    const backend = await page.textContent('#backend');
    assert.match(backend ?? '', /^wasm, (simd128|scalar)$/);
    assert.deepEqual(errors, []);
  });

  it('trains a K = 2 model on the page: the subspace distance it shows is < 0.05', async () => {
    const form = page.locator('#synthetic-form');
    for (const [name, value] of Object.entries({ n: '24', K: '2', d: '3', N: '120', steps: '300', seed: '3' })) {
      await form.locator(`input[name=${name}]`).fill(value);
    }
    await page.click('#run-synthetic');
    await page.waitForFunction("document.getElementById('status')?.dataset.state !== 'busy'", null, { timeout: 90_000 });
    const status = await page.textContent('#status');
    console.log(`      (page: ${status}; DAE ${await page.textContent('#dae-max')}; KSS ${await page.textContent('#kss-max')})`);
    const shown = await page.getAttribute('#dae-max', 'data-value');
    const kss = await page.getAttribute('#kss-max', 'data-value');
    mkdirSync(join(root, 'test-output'), { recursive: true });
    await page.screenshot({ path: join(root, 'test-output', 'browser-demo.png'), fullPage: true });
    assert.ok(shown !== null && shown !== '', `the page shows no DAE distance (status: ${status}; errors: ${errors.join(' | ')})`);
    assert.ok(Number(shown) < 0.05, `DAE max subspace distance shown ${shown} (status: ${status})`);
    assert.ok(Number(kss) < 0.05, `K-subspaces max subspace distance shown ${kss}`);
    assert.deepEqual(errors, []);
  });

  it('the kernel table passes in the page: both wasm builds against the js reference', async () => {
    const t0 = Date.now();
    await page.goto(`${base}/kernels/`);
    await page.waitForFunction('window.kernelResult !== undefined', null, { timeout: 110_000 });
    const r = await page.evaluate('window.kernelResult') as { passed: string[]; failed: string[] };
    await page.screenshot({ path: join(root, 'test-output', 'browser-kernels.png') });
    assert.deepEqual(r.failed, [], `kernel cases failed in the browser:\n${r.failed.join('\n')}`);
    for (const label of ['wasm/simd128 (browser)', 'wasm/scalar (browser)']) {
      for (const kernel of ['Philox4x32-10 known answers', 'gemm', 'denoise', 'lossGrad', 'svd']) {
        assert.ok(r.passed.some((t) => t.includes(label) && t.includes(kernel)), `no passing ${kernel} case on ${label}`);
      }
    }
    console.log(`      (${r.passed.length} kernel cases passed in Chromium in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    assert.deepEqual(errors, []);
  });
});

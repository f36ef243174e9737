// Browser builds (scripts/build-entries.mjs with esbuild, web/vite.config.ts with Vite) replace the
// Node host of backend selection, src/backend/host.ts, by src/backend/host.browser.ts.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the browser host module. */
export const browserHost = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'backend', 'host.browser.ts');

/** Matches the import of the Node host from src/backend/index.ts. */
export const hostImport = /^\.\/host\.js$/;

/** The esbuild plugin. */
export function browserHostPlugin() {
  return {
    name: 'molrg-browser-host',
    setup(b) {
      b.onResolve({ filter: hostImport }, (args) => (/[\\/]src[\\/]backend[\\/]index\.ts$/.test(args.importer) ? { path: browserHost } : undefined));
    },
  };
}

#!/usr/bin/env node
'use strict';
// The `molrg` executable. From a git clone (src/ present, tsx installed) it runs the TypeScript
// sources through tsx; from an installed package it runs the compiled dist/.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
let cli;
const source = join(root, 'src', 'cli', 'main.ts');
let tsx = null;
try { tsx = existsSync(source) ? require.resolve('tsx/cjs', { paths: [root] }) : null; } catch { tsx = null; }
if (tsx) {
  require(tsx);
  cli = require(source);
} else {
  const compiled = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(compiled)) {
    process.stderr.write('molrg: dist/ is missing; run `npm run build` (or `npm install` in a clone for the tsx path)\n');
    process.exit(1);
  }
  cli = require(compiled);
}
cli.main(process.argv).then((code) => { process.exitCode = code; });

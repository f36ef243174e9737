/**
 * Regression tests of fuzzing findings (docs/reliability.md): every committed input of the reader
 * fuzzer (fuzz/corpus/readers/<reader>-*) is handled as documented, i.e. rejected with the reader's
 * own Error or read into a well-formed result. The native harnesses' corpora are replayed by
 * test/sanitizers.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel } from '../src/io/model.js';
import { checkReader } from '../fuzz/readers.js';

const dir = join(__dirname, '..', 'fuzz', 'corpus', 'readers');

describe('fuzzing findings stay fixed', () => {
  for (const file of readdirSync(dir).sort()) {
    it(`fuzz/corpus/readers/${file}`, () => {
      const reader = file.split('-')[0];
      assert.equal(checkReader(reader, new Uint8Array(readFileSync(join(dir, file)))), undefined);
    });
  }

  it('a model file claiming __metadata__.K = 10^8 is rejected before anything of size K is allocated', () => {
    assert.throws(() => decodeModel(readFileSync(join(dir, 'model-huge-K.bin')), 'f'),
      /^Error: Invalid model file f: expected a tensor U\.0 but received none$/);
  });
});

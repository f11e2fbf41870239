/** Golden files: compare against test/golden/NAME, or rewrite it when UPDATE_GOLDEN=1. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';

export async function assertGolden(name: string, actual: string): Promise<void> {
  const url = new URL(`../golden/${name}`, import.meta.url);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    await writeFile(url, actual);
    return;
  }
  const expected = await readFile(url, 'utf8').catch(() => {
    throw new Error(`golden file test/golden/${name} is missing; run with UPDATE_GOLDEN=1 to create it`);
  });
  assert.equal(actual, expected, `output differs from test/golden/${name} (UPDATE_GOLDEN=1 rewrites it)`);
}

/**
 * The house rules on dependencies, read off the sources: one module per outside library, and only the
 * composition root (and the config loader) touch process.argv and process.env.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** Which files may import each outside library. */
const LIBRARY_HOMES: Readonly<Record<string, (file: string) => boolean>> = {
  execa: (file) => file === 'scan/nmap-scanner.ts',
  'fast-xml-parser': (file) => file === 'scan/nmap-xml.ts',
  undici: (file) => file === 'cloud/http-client.ts',
  express: (file) => file.startsWith('http/'),
  'prom-client': (file) => file.startsWith('metrics/'),
  yaml: (file) => file === 'config/load.ts',
};

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

async function sourceFiles(): Promise<{ file: string; text: string }[]> {
  const entries = await readdir(SRC, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts'));
  return Promise.all(
    files.map(async (entry) => {
      const path = join(entry.parentPath, entry.name);
      return { file: relative(SRC, path), text: await readFile(path, 'utf8') };
    }),
  );
}

function importsOf(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((match) => match[1] ?? match[2] ?? '');
}

describe('architecture', () => {
  it('imports each outside library from its one home module only', async () => {
    const files = await sourceFiles();
    assert.ok(files.length > 15, 'found the sources');
    const violations = files.flatMap(({ file, text }) =>
      importsOf(text)
        .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'))
        .filter((specifier) => {
          const library = Object.keys(LIBRARY_HOMES).find((name) => specifier === name || specifier.startsWith(`${name}/`));
          return library === undefined || !LIBRARY_HOMES[library]!(file);
        })
        .map((specifier) => `${file} imports ${specifier}`),
    );
    assert.deepEqual(violations, []);
  });

  it('reads process.argv and process.env only in main.ts and config/load.ts', async () => {
    const files = await sourceFiles();
    const readers = files
      .filter(({ text }) => /process\.(argv|env)\b/.test(text))
      .map(({ file }) => file)
      .filter((file) => file !== 'main.ts' && file !== 'config/load.ts');
    assert.deepEqual(readers, []);
  });

  it('keeps dependencies pointing inward: scan/ imports nothing from config/, core/, http/ or metrics/', async () => {
    const files = await sourceFiles();
    const outward = files
      .filter(({ file }) => file.startsWith('scan/'))
      .flatMap(({ file, text }) =>
        importsOf(text)
          .filter((specifier) => /^\.\.\/(core|http|metrics|config)\//.test(specifier))
          .map((specifier) => `${file} imports ${specifier}`),
      );
    assert.deepEqual(outward, []);
  });
});

/**
 * The house rules on dependencies: one module per outside library, process.argv and process.env read only at
 * the composition root and the config loader, imports between folders as one table allows, no import cycle.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** Which files may import each outside library. */
const LIBRARY_HOMES: Readonly<Record<string, (file: string) => boolean>> = {
  execa: (file) => file === 'scan/nmap-scanner.ts',
  undici: (file) => file === 'openstack/session/http-client.ts',
  express: (file) => file.startsWith('http/'),
  'prom-client': (file) => file.startsWith('metrics/'),
  yaml: (file) => file === 'config/load.ts',
  bcryptjs: (file) => file === 'web/basic-auth.ts',
  'node:sqlite': (file) => file === 'history/ticket-store.ts',
};

/** What every folder may use: the error type, the logger, the clock, value parsers and validation. */
const LEAVES = ['errors.ts', 'log.ts', 'clock.ts', 'net', 'validation'];

/**
 * Which of our units (a folder, or a file at the top of src/) may import which; a unit may always import
 * itself. In the order of the pipeline (docs/architecture.md): each stage reads the stages before it, never
 * one after, and only main.ts wires everything together.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  'errors.ts': [],
  'log.ts': [],
  'clock.ts': [],
  'stream-writer.ts': [],
  'young-generation.ts': [],
  validation: [],
  net: ['errors.ts'],
  config: ['errors.ts', 'log.ts', 'validation', 'net'],
  inventory: [...LEAVES, 'config'],
  openstack: [...LEAVES, 'config', 'inventory'],
  targets: [...LEAVES, 'config'],
  scan: [...LEAVES, 'config', 'targets'],
  exposure: [...LEAVES, 'config', 'inventory', 'scan'],
  state: [...LEAVES, 'config', 'inventory', 'targets', 'scan', 'exposure'],
  history: [...LEAVES, 'config', 'inventory', 'scan', 'exposure', 'state'],
  cycle: [...LEAVES, 'config', 'inventory', 'targets', 'scan', 'exposure', 'state', 'history'],
  report: [...LEAVES, 'inventory', 'scan', 'exposure', 'state', 'history'],
  metrics: [...LEAVES, 'config', 'inventory', 'scan', 'exposure', 'state', 'history'],
  page: [...LEAVES, 'inventory', 'exposure', 'state', 'history', 'report', 'metrics'],
  web: [...LEAVES, 'config'],
  http: [...LEAVES, 'state', 'history', 'report', 'metrics', 'page'],
  'flags.ts': ['errors.ts', 'log.ts', 'config', 'net'],
  'main.ts': [
    ...LEAVES,
    'config',
    'inventory',
    'openstack',
    'targets',
    'scan',
    'exposure',
    'state',
    'history',
    'cycle',
    'report',
    'metrics',
    'web',
    'http',
    'flags.ts',
    'stream-writer.ts',
    'young-generation.ts',
  ],
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

/** The folder a file of src/ belongs to, or the file itself when it sits at the top of src/. */
function unitOf(file: string): string {
  const [first = file] = file.split('/');
  return first === file ? file : first;
}

/** Every import from one of our units into another, as `{ file, from, to }`. */
async function crossUnitImports(): Promise<{ file: string; from: string; to: string }[]> {
  const files = await sourceFiles();
  return files.flatMap(({ file, text }) =>
    importsOf(text)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => ({ file, from: unitOf(file), to: unitOf(normalize(join(dirname(file), specifier))) }))
      .filter(({ from, to }) => from !== to),
  );
}

/** The first cycle found in a directed graph, as the path that closes it (`a → b → a`), or undefined. */
function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    const start = path.indexOf(node);
    if (start >= 0) return [...path.slice(start), node];
    if (done.has(node)) return undefined;
    path.push(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(node);
    return undefined;
  };
  for (const node of [...edges.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('architecture', () => {
  it('imports each outside library from its one home module only', async () => {
    const files = await sourceFiles();
    assert.ok(files.length > 15, 'found the sources');
    const violations = files.flatMap(({ file, text }) =>
      importsOf(text)
        .filter((specifier) => !specifier.startsWith('.'))
        .filter((specifier) => !specifier.startsWith('node:') || specifier in LIBRARY_HOMES)
        .filter((specifier) => {
          const library = Object.keys(LIBRARY_HOMES).find(
            (name) => specifier === name || specifier.startsWith(`${name}/`),
          );
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

  it('imports across folders only as the table allows', async () => {
    const imports = await crossUnitImports();
    assert.ok(imports.length > 20, 'found the imports between folders');
    const violations = imports
      .filter(({ from, to }) => !(MAY_IMPORT[from] ?? []).includes(to))
      .map(({ file, from, to }) =>
        MAY_IMPORT[from] ? `${file} imports ${to}` : `${file}: ${from} is not in the table`,
      );
    assert.deepEqual([...new Set(violations)].sort(), []);
  });

  it('has no import cycle between folders', async () => {
    const edges = new Map<string, Set<string>>();
    for (const { from, to } of await crossUnitImports()) edges.set(from, (edges.get(from) ?? new Set()).add(to));
    assert.equal(findCycle(edges)?.join(' → '), undefined);
  });

  it('has no import cycle between files, type imports included', async () => {
    const edges = new Map<string, Set<string>>();
    for (const { file, text } of await sourceFiles()) {
      const targets = importsOf(text)
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => normalize(join(dirname(file), specifier)));
      edges.set(file, new Set(targets));
    }
    assert.ok(edges.size > 80, 'found the files');
    assert.equal(findCycle(edges)?.join(' → '), undefined);
  });

  it('finds a cycle through several folders and names its path', () => {
    const graph = (pairs: [string, string][]) => {
      const edges = new Map<string, Set<string>>();
      for (const [from, to] of pairs) edges.set(from, (edges.get(from) ?? new Set()).add(to));
      return edges;
    };
    assert.deepEqual(
      findCycle(
        graph([
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'd'],
        ]),
      ),
      undefined,
    );
    // The search starts from the names in order, so the cycle is reported from `config`, where it is first met.
    assert.deepEqual(
      findCycle(
        graph([
          ['main', 'core'],
          ['core', 'scan'],
          ['scan', 'config'],
          ['config', 'core'],
        ]),
      ),
      ['config', 'core', 'scan', 'config'],
    );
  });
});

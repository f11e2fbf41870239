/**
 * What reading a large inventory_file costs: 100,000 entries (an address, a VM name and id, a tenant and a user)
 * written as JSON and as YAML, each read once by the exporter's own FileInventory (the bounded read, the parse,
 * the validation of every entry) in a child process of its own, so that its peak RSS is its alone. The baseline
 * is the same child's RSS just before the read. Goal: at most 2 s and 200 MB more peak memory.
 *
 * Run: npx node bench/inventory-file.ts [--entries N] (about 15 s), or --smoke (1,000 entries).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readBoundedFile } from '../src/config/load.ts';
import { FileInventory } from '../src/inventory/file-inventory.ts';
import { describeMachine, printTable } from './measure.ts';

const { values } = parseArgs({
  options: { smoke: { type: 'boolean' }, entries: { type: 'string' }, child: { type: 'string' } },
});
const GOAL_MS = 2000;
const GOAL_EXTRA_MB = 200;

interface Measured {
  readonly ms: number;
  readonly owners: number;
  readonly rssBeforeMB: number;
  readonly peakMB: number;
}

function readHighWaterMB(): number {
  const status = execFileSync('cat', [`/proc/${process.pid}/status`], { encoding: 'utf8' });
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]) / 1024;
}

/** In the child: one read of the file, as a refresh of the exporter does it. */
async function measureChild(path: string): Promise<void> {
  const rssBeforeMB = process.memoryUsage().rss / 1e6;
  const started = performance.now();
  const inventory = new FileInventory({
    source: path,
    read: () => readBoundedFile(path, { maxBytes: 1 << 30, what: 'the inventory file' }),
  });
  const snapshot = await inventory.load();
  const ms = performance.now() - started;
  const measured: Measured = {
    ms,
    owners: snapshot.owners.size,
    rssBeforeMB,
    peakMB: (readHighWaterMB() * 1024 * 1024) / 1e6,
  };
  process.stdout.write(JSON.stringify(measured));
}

function buildEntries(count: number): Record<string, string>[] {
  return Array.from({ length: count }, (_, i) => ({
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    vm_name: `vm-${i}`,
    vm_id: `3f0c${i.toString(16).padStart(8, '0')}`,
    tenant: `team-${i % 50}`,
    user: `user-${i % 500}`,
  }));
}

async function main(): Promise<void> {
  if (values.child) return measureChild(values.child);
  const count = values.smoke ? 1000 : Number(values.entries ?? 100_000);
  const dir = await mkdtemp(join(tmpdir(), 'ee-inventory-bench-'));
  try {
    const entries = buildEntries(count);
    const files = {
      JSON: join(dir, 'inventory.json'),
      'YAML (one flow mapping per line)': join(dir, 'inventory-flow.yml'),
      'YAML (block mappings)': join(dir, 'inventory-block.yml'),
    };
    await writeFile(files.JSON, JSON.stringify(entries));
    await writeFile(
      files['YAML (one flow mapping per line)'],
      entries
        .map(
          (e) =>
            `- {${Object.entries(e)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ')}}\n`,
        )
        .join(''),
    );
    await writeFile(
      files['YAML (block mappings)'],
      entries
        .map((e) =>
          Object.entries(e)
            .map(([k, v], j) => `${j === 0 ? '- ' : '  '}${k}: ${v}\n`)
            .join(''),
        )
        .join(''),
    );
    const rows: string[][] = [
      ['format', 'bytes', 'owners', 'read (ms)', 'peak RSS (MB)', 'RSS before (MB)', 'extra (MB)', 'goal'],
    ];
    for (const [format, path] of Object.entries(files)) {
      const output = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--child', path], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      const measured = JSON.parse(output) as Measured;
      const extra = measured.peakMB - measured.rssBeforeMB;
      const met = measured.ms <= GOAL_MS && extra <= GOAL_EXTRA_MB;
      const bytes = Number(execFileSync('stat', ['-c', '%s', path], { encoding: 'utf8' }).trim());
      rows.push([
        format,
        bytes.toLocaleString('en-US'),
        String(measured.owners),
        measured.ms.toFixed(0),
        measured.peakMB.toFixed(0),
        measured.rssBeforeMB.toFixed(0),
        extra.toFixed(0),
        values.smoke ? '' : met ? 'met' : 'NOT met',
      ]);
      if (measured.owners !== count) throw new Error(`${format}: read ${measured.owners} owners of ${count}`);
    }
    console.log(
      `inventory-file: ${count.toLocaleString('en-US')} entries, one read each in a child process (${describeMachine()})`,
    );
    printTable(rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

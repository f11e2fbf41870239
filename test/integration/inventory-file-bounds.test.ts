/**
 * The inventory file as untrusted input, through the real process: a 50 MB file swapped in on a running server
 * is refused unread (the server keeps answering, the last good owners stay), and an unchanged file is not parsed
 * again. The second is observed in the debug log, where the exporter says each time it parses the file
 * (`inventory file parsed`), beside the `inventory read` of every refresh. The fake nmap `instant` answers with a
 * recording of 127.0.0.1: nothing is scanned.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startExporter } from '../support/exporter-process.ts';
import type { ExporterProcess } from '../support/exporter-process.ts';
import { lookup } from '../support/fault-checks.ts';
import { pollUntil } from '../support/poll.ts';

const INSTANT = new URL('../fixtures/fake-nmap/instant', import.meta.url).pathname;
const GOOD = '- {ip: 127.0.0.1, vm_name: vm-good, tenant: ops}\n';

describe('the inventory file, bounded', () => {
  let dir = '';
  let inventory = '';
  let config = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-inventory-bounds-'));
    inventory = join(dir, 'inventory.yml');
    await writeFile(inventory, GOOD);
    config = join(dir, 'config.yml');
    await writeFile(
      config,
      `scan:\n  targets: ["127.0.0.1"]\n  interval: 1h\n  udp: {ports: none}\n  nmap: {path: ${JSON.stringify(INSTANT)}}\n` +
        `inventory_file: {path: ${JSON.stringify(inventory)}, refresh_interval: 1s}\nstate: {path: ${JSON.stringify(join(dir, 'state.json'))}}\n`,
    );
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const count = (exporter: ExporterProcess, msg: string): number =>
    exporter.logs().filter((entry) => entry['msg'] === msg).length;

  it('refuses a 50 MB file unread: /-/healthy keeps answering within 1 s and the last good owners stay', async () => {
    const exporter = await startExporter([`--config.file=${config}`]);
    try {
      await exporter.waitForMetrics(
        (samples) => lookup(samples, 'exposure_inventory_file_up') === 1,
        'the good inventory',
      );
      await writeFile(inventory, `# ${'x'.repeat(50 * 1024 * 1024)}\n${GOOD}`);
      const slowest = { ms: 0 };
      const refused = pollUntil(
        async () => {
          const started = Date.now();
          const healthy = await fetch(`${exporter.baseUrl}/-/healthy`, { signal: AbortSignal.timeout(5000) });
          slowest.ms = Math.max(slowest.ms, Date.now() - started);
          assert.equal(healthy.status, 200);
          return exporter.scrape();
        },
        (samples) => lookup(samples, 'exposure_inventory_file_up') === 0,
        { what: 'the big file to be refused', timeoutMs: 20_000, intervalMs: 100 },
      );
      const samples = await refused;
      assert.ok(slowest.ms < 1000, `the slowest /-/healthy took ${slowest.ms} ms`);
      assert.equal(lookup(samples, 'exposure_inventory_file_addresses'), 1, 'the last good file is still in use');
      const failure = exporter
        .logs()
        .find((entry) => entry['msg'] === 'cannot read the inventory; keeping the last good one');
      // "# ", 50 MiB of x, a newline and the good entry: 2 + 52,428,800 + 1 + 49 bytes.
      assert.match(
        JSON.stringify(failure),
        /the inventory file is 52428852 bytes, more than the limit of 16777216 bytes/,
      );
      const report = (await (await fetch(`${exporter.baseUrl}/report`)).json()) as {
        hosts: { vm: { name: string } | null }[];
      };
      assert.deepEqual(
        report.hosts.map((host) => host.vm?.name),
        ['vm-good'],
      );
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });

  it('parses an unchanged file once, however often it is read, and again once its bytes change', async () => {
    const exporter = await startExporter([`--config.file=${config}`, '--log.level=debug']);
    try {
      await pollUntil(
        async () => count(exporter, 'inventory read'),
        (reads) => reads >= 4,
        { what: 'four reads', timeoutMs: 20_000, intervalMs: 100 },
      );
      assert.equal(count(exporter, 'inventory file parsed'), 1);
      await writeFile(inventory, GOOD.replace('vm-good', 'vm-renamed'));
      await pollUntil(
        async () => count(exporter, 'inventory file parsed'),
        (parses) => parses === 2,
        { what: 'the changed file parsed', timeoutMs: 20_000, intervalMs: 100 },
      );
      const reads = count(exporter, 'inventory read');
      await pollUntil(
        async () => count(exporter, 'inventory read'),
        (now) => now >= reads + 3,
        { what: 'three more reads', timeoutMs: 20_000, intervalMs: 100 },
      );
      assert.equal(count(exporter, 'inventory file parsed'), 2);
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });
});

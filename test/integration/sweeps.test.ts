/**
 * Known-address cycles and sweeps, with the built exporter and real nmap in a namespace lab: a /27 of which
 * three addresses answer. An inventory_file names two of them; the third is a host nobody listed. A known
 * cycle must scan only the two, the sweep must find the third and mark it owner_kind="unknown", and the
 * known cycles after it must scan it too. nmap runs through a wrapper that records its stdin, which is
 * where the exporter writes the targets. Requires root (namespaces, SYN scan).
 */
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLab } from '../lab/netns-lab.ts';
import type { Lab } from '../lab/netns-lab.ts';
import { startExporter } from '../support/exporter-process.ts';
import { samplesNamed, sampleValue } from '../support/exposition.ts';
import { waitForReport } from '../support/report-polling.ts';

const LISTED = [
  { ip: '198.51.100.10', ports: [22, 6379] },
  { ip: '198.51.100.11', ports: [2375] },
];
const UNLISTED = { ip: '198.51.100.20', ports: [8080] };

/** The sweep becomes due this long after start: first a known cycle or two, then the sweep. */
const SWEEP_DUE_AFTER_MS = 8000;
const SWEEP_INTERVAL_MS = 60_000;

interface Report {
  scan: { success: boolean; scope: string; addresses_scanned: number; targets: number; started_at: string } | null;
  hosts: { ip: string; vm: { name: string; owner_kind: string } | null; ports: { port: number }[] }[];
}

describe('known-address cycles and sweeps against a namespace lab', () => {
  let lab: Lab;
  let stdinDir: string;

  before(async () => {
    lab = await startLab({ hosts: [...LISTED, UNLISTED], silentRange: '198.51.100.0/24' });
    stdinDir = join(lab.dir, 'stdin');
    // Scans (the ones writing XML to stdout) keep a copy of their stdin; the exporter's probes pass through.
    await writeFile(
      join(lab.dir, 'recording-nmap'),
      `#!/bin/sh\nmkdir -p ${stdinDir}\ncase " $* " in *" -oX "*)\n  f=${stdinDir}/$(date +%s%N)\n  cat > "$f"\n  exec ${lab.nmapPath} "$@" < "$f";;\nesac\nexec ${lab.nmapPath} "$@"\n`,
    );
    await chmod(join(lab.dir, 'recording-nmap'), 0o755);
    await writeFile(
      join(lab.dir, 'inventory.yml'),
      '- {ip: 198.51.100.10, vm_name: cache-1, owner_kind: baremetal, tenant: ops}\n- {ip: 198.51.100.11, vm_name: docker-1, tenant: ops}\n',
    );
  });
  after(async () => {
    await lab?.stop();
  });

  /** What nmap was given by the latest scan, one address or block per line. */
  async function lastStdin(): Promise<string[]> {
    const files = (await readdir(stdinDir)).sort();
    return (await readFile(join(stdinDir, files.at(-1)!), 'utf8')).split('\n').filter((line) => line !== '');
  }

  it('scans only the known addresses between sweeps, and the host a sweep found in the known cycles after it', async () => {
    const statePath = join(lab.dir, 'state.json');
    // A state file whose sweep started long enough ago that the next one is due a few seconds after start.
    const sweptAt = new Date(Date.now() - SWEEP_INTERVAL_MS + SWEEP_DUE_AFTER_MS).toISOString();
    const scan = {
      startedAt: sweptAt,
      finishedAt: sweptAt,
      scope: 'sweep',
      targets: 32,
      addressesScanned: 32,
      hostsUp: 0,
      nmapVersion: '7.93',
      nmapArgs: [],
    };
    const sweep = { startedAt: sweptAt, finishedAt: sweptAt, addressesScanned: 32, hostsUp: 0, upAddresses: [] };
    const inventory = { source: 'file', up: true, servers: 0, addresses: 0 };
    const snapshot = { scan, sweep, inventory, hosts: [], changes: { opened: [], closed: [] } };
    await writeFile(statePath, `${JSON.stringify({ schema_version: 1, saved_at: sweptAt, snapshot })}\n`);
    const configPath = join(lab.dir, 'config.yml');
    await writeFile(
      configPath,
      `scan:
  targets: ["198.51.100.0/27"]
  interval: 4s
  timeout: 3s
  sweep_interval: ${SWEEP_INTERVAL_MS / 1000}s
  sweep_timeout: 20s
  nmap:
    path: ${JSON.stringify(join(lab.dir, 'recording-nmap'))}
    max_rtt_timeout: 100ms
    max_retries: 1
    host_timeout: 15s
inventory_file:
  path: ${JSON.stringify(join(lab.dir, 'inventory.yml'))}
state:
  path: ${JSON.stringify(statePath)}
`,
    );
    const exporter = await startExporter([`--config.file=${configPath}`]);
    try {
      const wait = (what: string, predicate: (report: Report) => boolean) =>
        waitForReport(exporter, what, predicate, { timeoutMs: 40_000, intervalMs: 100 });

      const known = await wait('a known cycle', (r) => r.scan?.scope === 'known' && r.scan.success);
      assert.equal(known.scan?.addresses_scanned, 2);
      assert.equal(known.scan?.targets, 32);
      assert.deepEqual(
        await lastStdin(),
        ['198.51.100.10', '198.51.100.11'],
        'nmap was given the two listed hosts only',
      );
      assert.deepEqual(
        known.hosts.map((host) => [host.ip, host.vm?.name, host.vm?.owner_kind]),
        [
          ['198.51.100.10', 'cache-1', 'baremetal'],
          ['198.51.100.11', 'docker-1', 'file'],
        ],
      );

      const swept = await wait('the sweep', (r) => r.scan?.scope === 'sweep' && r.scan.success);
      assert.equal(swept.scan?.addresses_scanned, 32);
      assert.deepEqual(
        swept.hosts.map((host) => host.ip),
        ['198.51.100.10', '198.51.100.11', '198.51.100.20'],
      );
      assert.equal(swept.hosts[2]?.vm, null, 'no owner to show for an unlisted address');
      const metrics = await exporter.scrape();
      assert.equal(sampleValue(metrics, 'exposure_vm_info', { ip: UNLISTED.ip, owner_kind: 'unknown' }), 1);
      assert.equal(sampleValue(metrics, 'exposure_port_open', { ip: UNLISTED.ip, port: '8080' }), 1);
      assert.equal(sampleValue(metrics, 'exposure_sweep_addresses_up'), 3);
      assert.equal(sampleValue(metrics, 'exposure_inventory_file_up'), 1);
      assert.equal(samplesNamed(metrics, 'exposure_sweep_last_success_timestamp_seconds').length, 1);

      const after = await wait(
        'a known cycle after the sweep',
        (r) => r.scan?.scope === 'known' && r.scan.started_at > swept.scan!.started_at && r.scan.success,
      );
      assert.equal(after.scan?.addresses_scanned, 3);
      assert.deepEqual(await lastStdin(), ['198.51.100.10', '198.51.100.11', '198.51.100.20']);
      assert.deepEqual(
        after.hosts.map((host) => host.ip),
        ['198.51.100.10', '198.51.100.11', '198.51.100.20'],
      );
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });
});

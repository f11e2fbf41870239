/**
 * N replicas with --shard=I/N against one namespace lab: together they hand nmap every target exactly
 * once, and together they report every exposure exactly once. Real nmap, through a wrapper that records
 * the target list each replica feeds it on stdin.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTargetSet, enumerateAddresses, parseTargetSpec } from '../../src/net/addresses.ts';
import { startLab } from '../lab/netns-lab.ts';
import type { Lab } from '../lab/netns-lab.ts';
import { runExporter } from '../support/exporter-process.ts';

const REPLICAS = 3;
const TARGETS = '198.51.100.0/27';
const HOSTS = [3, 5, 8, 13, 17, 21, 26, 30].map((last) => ({ ip: `198.51.100.${last}`, ports: [6379] }));

function expand(blocks: readonly string[]): string[] {
  const ranges = blocks.map((block) => {
    const parsed = parseTargetSpec(block);
    if (!parsed.ok) throw new Error(`nmap was given ${JSON.stringify(block)}`);
    return parsed.range;
  });
  return [...enumerateAddresses(buildTargetSet(ranges, []))];
}

describe('sharding over replicas', () => {
  let lab: Lab;
  let recordingNmap: string;

  before(async () => {
    lab = await startLab({ hosts: HOSTS, silentRange: '198.51.100.0/24' });
    // Records the targets nmap reads on stdin (one file per run, named after the scan: tcp or udp), then runs
    // the real nmap in the lab on them.
    recordingNmap = join(lab.dir, 'recording-nmap');
    await writeFile(
      recordingNmap,
      `#!/bin/sh\nfor a in "$@"; do [ "$a" = --version ] && exec ${lab.nmapPath} "$@"; done\n` +
        `kind=tcp; for a in "$@"; do [ "$a" = -sU ] && kind=udp; done\n` +
        `f=${lab.dir}/targets.$kind.$$\ncat > "$f"\nexec ${lab.nmapPath} "$@" < "$f"\n`,
    );
    await chmod(recordingNmap, 0o755);
  });
  after(async () => {
    await lab?.stop();
  });

  it(`${REPLICAS} replicas together scan every target exactly once and report every exposure once`, async () => {
    const reports: { targets: number; hosts: string[] }[] = [];
    for (let index = 0; index < REPLICAS; index += 1) {
      const config = join(lab.dir, `replica-${index}.yml`);
      await writeFile(
        config,
        `scan:\n  targets: ["${TARGETS}"]\n  ports: "6379"\n  nmap:\n    path: ${JSON.stringify(recordingNmap)}\n` +
          `    max_rtt_timeout: 200ms\n    max_retries: 1\nstate:\n  path: ${JSON.stringify(join(lab.dir, `state-${index}.json`))}\n`,
      );
      const { code, stdout, stderr } = await runExporter(
        [`--config.file=${config}`, `--shard=${index}/${REPLICAS}`, '--once'],
        {
          timeoutMs: 120_000,
        },
      );
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as { scan: { targets: number }; hosts: { ip: string }[] };
      reports.push({ targets: report.scan.targets, hosts: report.hosts.map((host) => host.ip) });
    }

    const recordingsOf = async (kind: string) =>
      Promise.all(
        (await readdir(lab.dir))
          .filter((name) => name.startsWith(`targets.${kind}.`))
          .map(async (name) => (await readFile(join(lab.dir, name), 'utf8')).split('\n').filter(Boolean)),
      );
    // The TCP scan and the UDP pass each cover the targets once, the replicas' shares adding up.
    for (const kind of ['tcp', 'udp']) {
      // Each replica also starts nmap once at start to read its capabilities; it is given no targets and
      // killed at once, so it leaves an empty recording or none.
      const scans = (await recordingsOf(kind)).filter((targets) => targets.length > 0);
      assert.equal(scans.length, REPLICAS, `one scanning ${kind} nmap run per replica`);
      const scanned = scans.flatMap(expand);
      const all = expand([TARGETS]);
      assert.equal(scanned.length, all.length, `no address scanned twice by ${kind}`);
      assert.deepEqual([...new Set(scanned)].sort(), [...all].sort(), `every address scanned by ${kind}`);
    }

    assert.equal(
      reports.reduce((sum, report) => sum + report.targets, 0),
      32,
    );
    assert.ok(
      reports.every((report) => report.targets > 0 && report.targets < 32),
      'each replica has a real share',
    );
    const reported = reports.flatMap((report) => report.hosts);
    assert.equal(reported.length, HOSTS.length, 'no exposure reported twice');
    assert.deepEqual([...reported].sort(), HOSTS.map((host) => host.ip).sort());
  });
});

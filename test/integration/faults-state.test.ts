/**
 * The state file failing under a running exporter: a full disk, a corrupt file, a file from a newer exporter.
 * Each time the exporter keeps serving, logs the problem with its code, and loses nothing: what it scanned
 * while the disk was full is saved once there is room, and a file it cannot read is kept beside the new one.
 * Real nmap scans listeners this test opens on 127.0.0.1; the full disk is a 16 KiB tmpfs (needs root).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startExporter } from '../support/exporter-process.ts';
import { sampleValue } from '../support/exposition.ts';
import {
  assertRestartRestores,
  exposuresIn,
  firstSeenIn,
  waitForLog,
  waitForMoreScans,
} from '../support/fault-checks.ts';
import { fillDisk } from '../support/fill-disk.ts';
import { findFreePort } from '../support/free-port.ts';
import { createSwitchableNmap } from '../support/switchable-nmap.ts';
import type { SwitchableNmap } from '../support/switchable-nmap.ts';
import { openTcpListener } from '../support/tcp-listener.ts';
import type { TcpListener } from '../support/tcp-listener.ts';
import { renderLoggedError } from '../support/logged-error.ts';

const run = promisify(execFile);

/** The ports the state file on disk holds, as `ip port/protocol`. */
async function savedPorts(path: string): Promise<string[]> {
  const state = JSON.parse(await readFile(path, 'utf8')) as {
    snapshot: { hosts: { ip: string; ports: { port: number; protocol: string }[] }[] };
  };
  return state.snapshot.hosts
    .flatMap((host) => host.ports.map((port) => `${host.ip} ${port.port}/${port.protocol}`))
    .sort();
}

/** The state is saved just after a cycle counts as done, so a test that saw the cycle polls for the file. */
async function waitForSavedPorts(path: string, expected: readonly string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const saved = await savedPorts(path).catch(() => []);
    if (JSON.stringify(saved) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) assert.deepEqual(saved, expected, `the state file ${path} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('state file faults', () => {
  let dir = '';
  let listeners: TcpListener[] = [];
  let nmap: SwitchableNmap;

  function writeConfig(ports: readonly number[], statePath: string): Promise<string> {
    const path = join(dir, 'config.yml');
    return writeFile(
      path,
      `scan:
  targets: ["127.0.0.1"]
  ports: "${ports.join(',')}"
  interval: 3s
  timeout: 2s
  nmap:
    path: ${JSON.stringify(nmap.path)}
    max_rtt_timeout: 100ms
    max_retries: 1
state:
  path: ${JSON.stringify(statePath)}
# Off the small disk the state file is tested on: the history shares its volume by default.
history:
  path: ${JSON.stringify(join(dir, 'history.db'))}
`,
    ).then(() => path);
  }

  /** No openstack block: the owner labels are empty. */
  function exposureOn(port: number): string {
    return `127.0.0.1 ${port}/tcp   `;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-faults-state-'));
    nmap = await createSwitchableNmap(dir);
    listeners = [await openTcpListener('127.0.0.1')];
  });
  afterEach(async () => {
    await Promise.all(listeners.map((listener) => listener.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('a full disk fails the save with STATE_WRITE_FAILED, keeps serving, and saves what it missed once there is room', async () => {
    const disk = join(dir, 'disk');
    await mkdir(disk);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', disk]);
    try {
      const statePath = join(disk, 'state.json');
      const filler = join(disk, 'filler');
      const first = listeners[0]!.port;
      const later = await findFreePort();
      const configPath = await writeConfig([first, later], statePath);
      const exporter = await startExporter([`--config.file=${configPath}`]);
      let firstSeen: Record<string, number>;
      try {
        const good = await waitForMoreScans(exporter, [], 'success', 'a first good cycle');
        await waitForSavedPorts(statePath, [`127.0.0.1 ${first}/tcp`]);

        await fillDisk(filler);
        const logged = exporter.logs().length;
        listeners.push(await openTcpListener('127.0.0.1', later));
        const full = await exporter.waitForMetrics(
          (samples) => exposuresIn(samples).length === 2,
          'a cycle that sees the second port while the disk is full',
          20_000,
        );
        assert.deepEqual(exposuresIn(full), [exposureOn(first), exposureOn(later)].sort());
        assert.equal(sampleValue(full, 'exposure_scan_success'), 1, 'a failed save does not fail the scan');
        const line = await waitForLog(exporter, 'cannot save state', 'the save on a full disk', { from: logged });
        assert.equal(line['level'], 'error');
        assert.match(
          renderLoggedError(line),
          new RegExp(`^STATE_WRITE_FAILED: cannot write the state file ${statePath}: ENOSPC: no space left on device`),
        );
        assert.deepEqual(await savedPorts(statePath), [`127.0.0.1 ${first}/tcp`], 'the previous state file is whole');
        assert.deepEqual((await readdir(disk)).sort(), ['filler', 'state.json'], 'no temporary file is left behind');
        firstSeen = firstSeenIn(full);
        assert.deepEqual(firstSeenIn(good)[`127.0.0.1 ${first}/tcp`], firstSeen[`127.0.0.1 ${first}/tcp`]);

        await rm(filler);
        await waitForMoreScans(exporter, full, 'success', 'a cycle once the disk has room');
        await waitForSavedPorts(statePath, [`127.0.0.1 ${first}/tcp`, `127.0.0.1 ${later}/tcp`].sort());
      } finally {
        await nmap.setMode('hang');
        assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
      }
      await assertRestartRestores([`--config.file=${configPath}`], {
        exposures: [exposureOn(first), exposureOn(later)].sort(),
        firstSeen,
      });
    } finally {
      await run('umount', [disk]).catch(() => run('umount', ['-l', disk]));
    }
  });

  const UNREADABLE = [
    {
      name: 'a corrupt state file (cut off mid-write by another tool)',
      text: '{"schema_version": 1, "saved_at": "2026-11-26T01:00:41.200Z", "snapshot": {"scan": {"startedAt": "2026-11-26T01:00:00.000Z", "fin',
      err: 'the state file is not JSON',
    },
    {
      name: 'a state file from a newer exporter (schema_version 2)',
      text: `${JSON.stringify({ schema_version: 2, saved_at: '2026-11-26T01:00:41.200Z', snapshot: { hosts: [], first_seen: {} } })}\n`,
      err: 'the state file has schema_version 2, expected 1',
    },
  ];
  for (const { name, text, err } of UNREADABLE) {
    it(`${name} is moved aside with STATE_INVALID; the exporter serves, saves anew and restores after a restart`, async () => {
      const statePath = join(dir, 'state.json');
      await writeFile(statePath, text);
      const port = listeners[0]!.port;
      const configPath = await writeConfig([port], statePath);
      const exporter = await startExporter([`--config.file=${configPath}`]);
      let firstSeen: Record<string, number>;
      try {
        const line = await waitForLog(
          exporter,
          'cannot restore state; starting without it',
          'the unreadable state file',
        );
        assert.equal(line['path'], statePath);
        const match = new RegExp(
          `^STATE_INVALID: ${err}; moved it to (${statePath}\\.invalid-\\d{4}-\\d{2}-\\d{2}T\\d{9}Z)$`,
        ).exec(renderLoggedError(line));
        assert.ok(match, `the log names the problem and where the file went: ${renderLoggedError(line)}`);
        assert.equal(await readFile(match[1]!, 'utf8'), text, 'the unreadable file is kept as it was');

        const good = await waitForMoreScans(exporter, [], 'success', 'a first good cycle');
        assert.deepEqual(exposuresIn(good), [exposureOn(port)]);
        firstSeen = firstSeenIn(good);
        await waitForSavedPorts(statePath, [`127.0.0.1 ${port}/tcp`]);
      } finally {
        await nmap.setMode('hang');
        assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
      }
      await assertRestartRestores([`--config.file=${configPath}`], { exposures: [exposureOn(port)], firstSeen });
    });
  }
});

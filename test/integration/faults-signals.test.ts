/**
 * Signals at awkward moments. SIGTERM while nmap scans, after a good cycle: the exporter kills nmap, exits 0
 * within 10 s and leaves the state file of the last good cycle whole for the next start. SIGHUP with a broken
 * config: the old config keeps scanning, the reload metric and the log say what is wrong. (SIGTERM and SIGINT
 * killing nmap are also in shutdown.test.ts; the rejected reload's metric and /-/reload answer in
 * exporter-lab.test.ts.) Real nmap scans a listener this test opens on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isProcessAlive } from '../lab/netns-lab.ts';
import { startExporter } from '../support/exporter-process.ts';
import { sampleValue } from '../support/exposition.ts';
import {
  assertRestartRestores,
  exposuresIn,
  firstSeenIn,
  lookup,
  scansTotal,
  waitForLog,
  waitForMoreScans,
} from '../support/fault-checks.ts';
import { createSwitchableNmap } from '../support/switchable-nmap.ts';
import type { SwitchableNmap } from '../support/switchable-nmap.ts';
import { openTcpListener } from '../support/tcp-listener.ts';
import type { TcpListener } from '../support/tcp-listener.ts';
import { loggedError, renderLoggedError } from '../support/logged-error.ts';
import { pollUntil } from '../support/poll.ts';

describe('signal faults', () => {
  let dir = '';
  let listener: TcpListener;
  let nmap: SwitchableNmap;
  let configPath = '';
  let statePath = '';
  let exposure = '';
  let goodConfig = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-faults-signals-'));
    listener = await openTcpListener('127.0.0.1');
    nmap = await createSwitchableNmap(dir);
    configPath = join(dir, 'config.yml');
    statePath = join(dir, 'state.json');
    // No openstack block: the owner labels are empty.
    exposure = `127.0.0.1 ${listener.port}/tcp   `;
    goodConfig = `scan:
  targets: ["127.0.0.1"]
  ports: "${listener.port}"
  interval: 3s
  timeout: 2s
  nmap:
    path: ${JSON.stringify(nmap.path)}
    max_rtt_timeout: 100ms
    max_retries: 1
state:
  path: ${JSON.stringify(statePath)}
`;
    await writeFile(configPath, goodConfig);
  });
  afterEach(async () => {
    await listener.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM while nmap scans, after a good cycle, kills nmap, exits 0 within 10 s and leaves the last good state for the next start', async () => {
    const exporter = await startExporter([`--config.file=${configPath}`]);
    const good = await waitForMoreScans(exporter, [], 'success', 'a first good cycle');
    const firstSeen = firstSeenIn(good);
    const savedBefore = await waitForStateFile(statePath);

    await nmap.setMode('hang');
    await nmap.forgetScanPid();
    const pid = await nmap.waitForScanPid();
    assert.ok(isProcessAlive(pid), 'nmap is scanning when the signal comes');
    const sentAt = Date.now();
    assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    assert.ok(Date.now() - sentAt < 10_000, 'exited within 10 s');
    assert.equal(isProcessAlive(pid), false, 'nmap was killed');
    // Stopped by the shutdown, not by scan.timeout.
    const stopped = exporter.logs().find((entry) => entry['msg'] === 'scan cycle failed');
    assert.equal(loggedError(stopped).code, 'NMAP_ABORTED');

    assert.equal(await readFile(statePath, 'utf8'), savedBefore, 'the state file is the last good cycle, whole');
    assert.deepEqual(await readdir(dir).then((names) => names.filter((name) => name.startsWith('state.json'))), [
      'state.json',
    ]);
    await assertRestartRestores([`--config.file=${configPath}`], { exposures: [exposure], firstSeen });
  });

  const BROKEN = [
    {
      name: 'an invalid value',
      text: () => goodConfig.replace('targets: ["127.0.0.1"]', 'targets: ["127.0.0.1/33"]'),
      err: () => `CONFIG_INVALID: ${configPath}: scan.targets[0]: "127.0.0.1/33" is not a valid CIDR`,
    },
    {
      name: 'YAML that does not parse',
      text: () => goodConfig.replace('targets: ["127.0.0.1"]', 'targets: ["127.0.0.1"'),
      err: () =>
        `CONFIG_INVALID: ${configPath}: line 3, column 3: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    },
  ];
  for (const broken of BROKEN) {
    it(`SIGHUP with ${broken.name} keeps the old config scanning, reports reload_successful 0 and logs the problem`, async () => {
      const exporter = await startExporter([`--config.file=${configPath}`]);
      let firstSeen: Record<string, number>;
      try {
        const good = await waitForMoreScans(exporter, [], 'success', 'a first good cycle');
        assert.equal(sampleValue(good, 'exposure_config_last_reload_successful'), 1);
        const logged = exporter.logs().length;
        await writeFile(configPath, broken.text());
        exporter.child.kill('SIGHUP');
        const rejected = await exporter.waitForMetrics(
          (samples) => lookup(samples, 'exposure_config_last_reload_successful') === 0,
          'the reload to be rejected',
          10_000,
        );
        const line = await waitForLog(
          exporter,
          'config reload failed; keeping the previous config',
          'the rejected reload',
          { from: logged },
        );
        assert.equal(line['level'], 'error');
        assert.equal(renderLoggedError(line), broken.err());
        assert.equal(sampleValue(rejected, 'exposure_scan_targets'), 1);

        // The old config still scans: the next cycle succeeds and finds the same exposure.
        const scanned = await waitForMoreScans(exporter, rejected, 'success', 'a cycle on the old config');
        assert.ok(scansTotal(scanned, 'success') > scansTotal(good, 'success'));
        assert.deepEqual(exposuresIn(scanned), [exposure]);
        assert.equal(sampleValue(scanned, 'exposure_config_last_reload_successful'), 0, 'the rejection stays reported');
        firstSeen = firstSeenIn(scanned);
        assert.deepEqual(firstSeen, firstSeenIn(good));

        await writeFile(configPath, goodConfig);
        exporter.child.kill('SIGHUP');
        await exporter.waitForMetrics(
          (samples) => lookup(samples, 'exposure_config_last_reload_successful') === 1,
          'a good reload once the file is fixed',
          10_000,
        );
      } finally {
        await nmap.setMode('hang');
        assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
      }
      await assertRestartRestores([`--config.file=${configPath}`], { exposures: [exposure], firstSeen });
    });
  }
});

/** The state file's text once the first save has happened (it comes just after the cycle counts as done). */
async function waitForStateFile(path: string): Promise<string> {
  const read = async (): Promise<string> => readFile(path, 'utf8').catch(() => '');
  return pollUntil(read, (text) => text !== '', {
    what: `a state file at ${path}`,
    timeoutMs: 10_000,
    intervalMs: 100,
  });
}

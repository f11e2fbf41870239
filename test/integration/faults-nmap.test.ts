/**
 * nmap failing under a running exporter: killed mid-scan, missing at start, gone after a good cycle. Each case
 * starts with a real scan (real nmap on 127.0.0.1 against a listener the test opens), checks that the fault
 * leaves the last good exposures served and says what happened, then restarts on the same state file.
 * nmap exiting 1, printing garbage, stopping mid-document and hanging past scan.timeout are covered, against the
 * namespace lab, by exporter-lab.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  logsWith,
  readLastScan,
  waitForLog,
  waitForMoreScans,
} from '../support/fault-checks.ts';
import { openTcpListener } from '../support/tcp-listener.ts';
import type { TcpListener } from '../support/tcp-listener.ts';
import { createSwitchableNmap } from '../support/switchable-nmap.ts';
import type { SwitchableNmap } from '../support/switchable-nmap.ts';
import { loggedError } from '../support/logged-error.ts';

describe('nmap faults', () => {
  let dir = '';
  let listener: TcpListener;
  let nmap: SwitchableNmap;
  let configPath = '';
  let exposure = '';

  /** Short cycles keep the suite quick; the timeout (below the interval, as it must be) leaves time to act on a hanging scan. */
  function writeConfig(options: { nmapPath?: string } = {}): Promise<void> {
    return writeFile(
      configPath,
      `scan:
  targets: ["127.0.0.1"]
  ports: "${listener.port}"
  interval: 3s
  timeout: 2s
  nmap:
    path: ${JSON.stringify(options.nmapPath ?? nmap.path)}
    max_rtt_timeout: 100ms
    max_retries: 1
state:
  path: ${JSON.stringify(join(dir, 'state.json'))}
`,
    );
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-faults-nmap-'));
    listener = await openTcpListener('127.0.0.1');
    nmap = await createSwitchableNmap(dir);
    configPath = join(dir, 'config.yml');
    // No openstack block: the owner labels are empty.
    exposure = `127.0.0.1 ${listener.port}/tcp   `;
    await writeConfig();
  });
  afterEach(async () => {
    await listener.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('nmap killed by SIGKILL mid-scan fails the cycle as NMAP_FAILED and keeps the last exposures', async () => {
    const exporter = await startExporter([`--config.file=${configPath}`]);
    let firstSeen: Record<string, number>;
    try {
      const good = await waitForMoreScans(exporter, [], 'success', 'a first good cycle');
      assert.deepEqual(exposuresIn(good), [exposure]);
      firstSeen = firstSeenIn(good);

      await nmap.setMode('hang');
      await nmap.forgetScanPid();
      const pid = await nmap.waitForScanPid();
      assert.ok(isProcessAlive(pid), 'the hanging scan is running');
      const logged = exporter.logs().length;
      process.kill(pid, 'SIGKILL');
      const failed = await waitForMoreScans(exporter, good, 'failure', 'the killed cycle to fail');

      assert.equal(sampleValue(failed, 'exposure_scan_success'), 0);
      assert.deepEqual(exposuresIn(failed), [exposure], 'the last good snapshot is still served');
      assert.deepEqual(firstSeenIn(failed), firstSeen);
      assert.deepEqual(await readLastScan(exporter), {
        success: false,
        error: { code: 'NMAP_FAILED', message: 'nmap was killed by SIGKILL' },
      });
      const line = await waitForLog(exporter, 'scan cycle failed', 'the killed cycle', { from: logged });
      assert.deepEqual(loggedError(line), { code: 'NMAP_FAILED', message: 'nmap was killed by SIGKILL' });
      assert.equal(exporter.child.exitCode, null, 'the exporter is still running');

      await nmap.setMode('real');
      const recovered = await waitForMoreScans(exporter, failed, 'success', 'a good cycle after the kill');
      assert.equal(sampleValue(recovered, 'exposure_scan_success'), 1);
      assert.deepEqual(
        firstSeenIn(recovered),
        firstSeen,
        'an exposure seen on both sides of a failed cycle keeps its first-seen',
      );
    } finally {
      await nmap.setMode('hang');
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }
    await assertRestartRestores([`--config.file=${configPath}`], { exposures: [exposure], firstSeen });
  });

  it('an nmap path that does not exist at start: the exporter serves the saved exposures with scan_success 0 and NMAP_NOT_FOUND', async () => {
    const first = await startExporter([`--config.file=${configPath}`]);
    let firstSeen: Record<string, number>;
    try {
      firstSeen = firstSeenIn(await waitForMoreScans(first, [], 'success', 'a first good cycle'));
    } finally {
      assert.equal(await first.stop('SIGTERM', 10_000), 0);
    }

    const missing = join(dir, 'no-such-nmap');
    await writeConfig({ nmapPath: missing });
    const exporter = await startExporter([`--config.file=${configPath}`]);
    try {
      const failed = await waitForMoreScans(exporter, [], 'failure', 'the first cycle without nmap to fail');
      assert.equal(sampleValue(failed, 'exposure_scan_success'), 0);
      assert.equal(sampleValue(failed, 'exposure_scans_total', { result: 'success' }), 0);
      assert.deepEqual(exposuresIn(failed), [exposure], 'the exposures of the state file are served');
      assert.deepEqual(firstSeenIn(failed), firstSeen);
      assert.equal((await fetch(`${exporter.baseUrl}/-/ready`)).status, 200);
      assert.equal(failed.find((s) => s.name === 'exposure_build_info')?.labels['nmap_version'], 'unknown');
      const expected = {
        code: 'NMAP_NOT_FOUND',
        message: `nmap was not found at ${JSON.stringify(missing)} (scan.nmap.path)`,
      };
      assert.deepEqual(await readLastScan(exporter), { success: false, error: expected });
      const line = await waitForLog(exporter, 'scan cycle failed', 'the cycle without nmap');
      assert.deepEqual(loggedError(line), expected);
      // It keeps trying every interval rather than exiting: installing nmap later needs no restart.
      await waitForMoreScans(exporter, failed, 'failure', 'a second cycle without nmap');
      assert.equal(exporter.child.exitCode, null);
    } finally {
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }

    await writeConfig();
    await nmap.setMode('hang');
    await assertRestartRestores([`--config.file=${configPath}`], { exposures: [exposure], firstSeen });
  });

  it('nmap deleted after a good cycle fails cycles as NMAP_NOT_FOUND until it is back, losing nothing', async () => {
    const exporter = await startExporter([`--config.file=${configPath}`]);
    let firstSeen: Record<string, number>;
    try {
      const good = await waitForMoreScans(exporter, [], 'success', 'a first good cycle');
      firstSeen = firstSeenIn(good);
      const logged = exporter.logs().length;
      await nmap.remove();
      const failed = await waitForMoreScans(exporter, good, 'failure', 'a cycle after nmap disappeared');

      assert.equal(sampleValue(failed, 'exposure_scan_success'), 0);
      assert.deepEqual(exposuresIn(failed), [exposure]);
      assert.deepEqual(firstSeenIn(failed), firstSeen);
      const expected = {
        code: 'NMAP_NOT_FOUND',
        message: `nmap was not found at ${JSON.stringify(nmap.path)} (scan.nmap.path)`,
      };
      assert.deepEqual(await readLastScan(exporter), { success: false, error: expected });
      const lines = logsWith(exporter, 'scan cycle failed', logged);
      assert.deepEqual(loggedError(lines[0]), expected);

      await nmap.restore();
      const recovered = await waitForMoreScans(exporter, failed, 'success', 'a good cycle once nmap is back');
      assert.equal(sampleValue(recovered, 'exposure_scan_success'), 1);
      assert.deepEqual(firstSeenIn(recovered), firstSeen);
    } finally {
      await nmap.setMode('hang');
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }
    await assertRestartRestores([`--config.file=${configPath}`], { exposures: [exposure], firstSeen });
  });
});

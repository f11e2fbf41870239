/**
 * nmap's output treated as untrusted input, through the real process: a fake nmap whose XML names hosts that
 * are not IP addresses, an address nmap was not handed and text that is not UTF-8 (test/fixtures/fake-nmap/
 * hostile), and one whose output never ends (endless), after a good cycle of the real nmap on a listener of ours.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startExporter } from '../support/exporter-process.ts';
import { samplesNamed, sampleValue } from '../support/exposition.ts';
import { exposuresIn, readLastScan, waitForLog, waitForMoreScans } from '../support/fault-checks.ts';
import { createSwitchableNmap } from '../support/switchable-nmap.ts';
import { openTcpListener } from '../support/tcp-listener.ts';
import type { TcpListener } from '../support/tcp-listener.ts';

const HOSTILE = new URL('../fixtures/fake-nmap/hostile', import.meta.url).pathname;

async function readRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) / 1024;
}

describe("nmap's output is untrusted", () => {
  let dir = '';
  let listener: TcpListener;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-nmap-output-'));
    listener = await openTcpListener('127.0.0.1');
  });
  afterEach(async () => {
    await listener.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function writeConfig(nmapPath: string, ports: string, targets = '127.0.0.1'): Promise<string> {
    const path = join(dir, 'config.yml');
    await writeFile(
      path,
      `scan:\n  targets: ["${targets}"]\n  ports: "${ports}"\n  interval: 3s\n  timeout: 2s\n  udp: {ports: none}\n` +
        `  nmap: {path: ${JSON.stringify(nmapPath)}, max_rtt_timeout: 100ms, max_retries: 1}\nstate: {path: ${JSON.stringify(join(dir, 'state.json'))}}\n`,
    );
    return path;
  }

  it('drops hosts that are not IP addresses or were not handed to nmap, and text that is not UTF-8: counted, logged, never a label', async () => {
    // Four addresses handed, four hosts named: within the bound, so each host is judged on its own.
    const exporter = await startExporter([
      `--config.file=${await writeConfig(HOSTILE, '6379', '127.0.0.1-127.0.0.4')}`,
    ]);
    try {
      const samples = await waitForMoreScans(exporter, [], 'success', 'a cycle on the hostile output');
      assert.deepEqual(exposuresIn(samples), ['127.0.0.1 6379/tcp   ']);
      assert.deepEqual(
        samplesNamed(samples, 'exposure_port_open').map((sample) => [sample.labels['ip'], sample.labels['service']]),
        [['127.0.0.1', '']],
        'the service name that was not UTF-8 is left empty',
      );
      assert.deepEqual(
        ['not_an_address', 'outside_targets', 'invalid_text'].map((reason) =>
          sampleValue(samples, 'exposure_nmap_output_rejected_total', { reason }),
        ),
        [2, 1, 1],
      );
      const logged = await waitForLog(exporter, "dropped what nmap's output should not hold", 'the warning');
      assert.equal(logged['level'], 'warn');
      assert.equal(logged['first'], '"not-an-ip" "127.0.0.1\ufffd" "192.0.2.55"');
      const report = await (await fetch(`${exporter.baseUrl}/report`)).text();
      assert.doesNotMatch(report, /192\.0\.2\.55|not-an-ip|\ufffd/);
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });

  it('fails a cycle whose output names more hosts than it was handed, keeps the last results, and its memory stays where it was', async () => {
    const nmap = await createSwitchableNmap(dir);
    const exporter = await startExporter([`--config.file=${await writeConfig(nmap.path, String(listener.port))}`]);
    try {
      const good = await waitForMoreScans(exporter, [], 'success', 'a good cycle with the real nmap');
      const exposures = exposuresIn(good);
      assert.deepEqual(exposures, [`127.0.0.1 ${listener.port}/tcp   `]);
      const idleMiB = await readRssMiB(exporter.child.pid!);

      await nmap.setMode('endless');
      const failed = await waitForMoreScans(exporter, good, 'failure', 'the endless cycle to fail');
      const last = await readLastScan(exporter);
      assert.equal(last.error?.code, 'NMAP_OUTPUT_INVALID');
      assert.equal(last.error?.message, "nmap's output names more hosts than the 1 it was handed");
      assert.deepEqual(exposuresIn(failed), exposures, 'the previous snapshot is still served');
      const afterMiB = await readRssMiB(exporter.child.pid!);
      assert.ok(
        afterMiB < idleMiB + 40,
        `RSS ${afterMiB.toFixed(0)} MiB after the cycle, ${idleMiB.toFixed(0)} MiB before`,
      );
      await nmap.setMode('hang');
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });
});

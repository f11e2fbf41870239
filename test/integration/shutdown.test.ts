/** SIGTERM while nmap runs: the exporter kills nmap and exits 0 within 10 s. Uses the hanging fake nmap. */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isProcessAlive } from '../lab/netns-lab.ts';
import { startExporter } from '../support/exporter-process.ts';
import { sampleValue } from '../support/exposition.ts';

const HANG = new URL('../fixtures/fake-nmap/hang', import.meta.url).pathname;

/** The pid the wrapper wrote; the scan may still be spawning nmap when in_progress turns 1. */
async function waitForPid(path: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.trim() !== '') return Number(text.trim());
    if (Date.now() > deadline) throw new Error(`no pid in ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during a scan kills nmap and exits 0 within 10 s`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ee-shutdown-'));
      try {
        // The wrapper records the scanning nmap's pid (a scan writes XML with -oX; the capability probe at
        // start does not), then becomes the hanging fake (exec keeps the pid).
        const wrapper = join(dir, 'nmap');
        await writeFile(
          wrapper,
          `#!/bin/sh\ncase " $* " in *" -oX "*) echo $$ > ${join(dir, 'nmap.pid')} ;; esac\nexec ${HANG} "$@"\n`,
        );
        await chmod(wrapper, 0o755);
        const config = join(dir, 'config.yml');
        await writeFile(
          config,
          `scan:\n  nmap: {path: ${JSON.stringify(wrapper)}}\nstate: {path: ${JSON.stringify(join(dir, 'state.json'))}}\n`,
        );
        const exporter = await startExporter([`--config.file=${config}`]);
        await exporter.waitForMetrics(
          (samples) => sampleValue(samples, 'exposure_scan_in_progress') === 1,
          'the scan to start',
        );
        const pid = await waitForPid(join(dir, 'nmap.pid'));
        assert.ok(isProcessAlive(pid), 'nmap is running before the signal');
        assert.equal(await exporter.stop(signal, 10_000), 0);
        assert.equal(isProcessAlive(pid), false, 'nmap was killed');
        assert.ok(exporter.logs().some((entry) => entry['msg'] === 'shutting down' && entry['signal'] === signal));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

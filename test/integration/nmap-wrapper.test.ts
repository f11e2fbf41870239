/**
 * scan.nmap.path pointing at a wrapper that does not `exec` nmap, as a site's audit shim or a careless shell
 * script does: when the shell dies, the child it started keeps nmap's stdout open. The cycle must still fail at
 * its bound, a shutdown still exit 0 within 10 s, a reload still apply, and nothing the exporter started may be
 * left running. The child is the hanging fake nmap (test/fixtures/fake-nmap/hang); nothing is scanned.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { runExporter, startExporter } from '../support/exporter-process.ts';
import { lookup, waitForLog } from '../support/fault-checks.ts';
import { loggedError } from '../support/logged-error.ts';
import { pollUntil } from '../support/poll.ts';

const HANG = new URL('../fixtures/fake-nmap/hang', import.meta.url).pathname;

/**
 * Whether the process still runs: an orphan that was killed stays a zombie until PID 1 reaps it, which on some
 * machines it never does, and a zombie runs nothing.
 */
function isProcessRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

describe('an nmap wrapper whose child outlives it', () => {
  let dir = '';
  let wrapper = '';
  let childPidFile = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-wrapper-'));
    wrapper = join(dir, 'nmap-wrapper');
    childPidFile = join(dir, 'child.pid');
    // The child runs in the background so the shell can record its pid; `wait` then blocks as a foreground
    // command would, and SIGTERM ends the shell alone.
    await writeFile(
      wrapper,
      `#!/bin/sh\n${JSON.stringify(HANG)} "$@" &\necho $! > ${JSON.stringify(childPidFile)}\nwait\n`,
    );
    await chmod(wrapper, 0o755);
  });
  afterEach(async () => {
    const pid = await readChildPid().catch(() => undefined);
    if (pid !== undefined && isProcessRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  async function readChildPid(): Promise<number> {
    return Number((await readFile(childPidFile, 'utf8')).trim());
  }

  /** The pid of the wrapper's child in the running scan, once it is there. */
  async function waitForScanChild(): Promise<number> {
    const read = async (): Promise<number> => readChildPid().catch(() => 0);
    return pollUntil(read, (pid) => pid > 0 && isProcessRunning(pid), {
      what: 'the wrapper child to run',
      timeoutMs: 10_000,
      intervalMs: 50,
    });
  }

  async function writeConfig(timeout: string): Promise<string> {
    const path = join(dir, 'config.yml');
    await writeFile(
      path,
      `scan:\n  targets: ["127.0.0.1"]\n  ports: "9"\n  interval: 30s\n  timeout: ${timeout}\n  udp: {ports: none}\n` +
        `  nmap: {path: ${JSON.stringify(wrapper)}}\nstate: {path: ${JSON.stringify(join(dir, 'state.json'))}}\n`,
    );
    return path;
  }

  it('fails the cycle at scan.timeout and ends the child with the wrapper', async () => {
    const config = await writeConfig('2s');
    const started = Date.now();
    const { code, stderr } = await runExporter([`--config.file=${config}`, '--once'], { timeoutMs: 30_000 });
    const elapsed = Date.now() - started;
    assert.notEqual(code, 0);
    assert.match(stderr, /NMAP_TIMEOUT/);
    // The bound, SIGTERM's grace (2 s) and Node's start: far from the child's own 68 years.
    assert.ok(elapsed < 10_000, `the cycle failed after ${elapsed} ms`);
    assert.equal(isProcessRunning(await readChildPid()), false, 'the child was ended with its group');
  });

  it('SIGTERM during the hung cycle exits 0 within 10 s and leaves no child running', async () => {
    const exporter = await startExporter([`--config.file=${await writeConfig('25s')}`]);
    const child = await waitForScanChild();
    const sentAt = Date.now();
    assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    assert.ok(Date.now() - sentAt < 10_000, 'exited within 10 s');
    assert.equal(isProcessRunning(child), false, 'the child was ended with its group');
    assert.equal(
      loggedError(exporter.logs().find((entry) => entry['msg'] === 'scan cycle failed')).code,
      'NMAP_ABORTED',
    );
  });

  it('SIGHUP during the hung cycle applies the new config, and the cycle still fails at its bound', async () => {
    const config = await writeConfig('4s');
    const exporter = await startExporter([`--config.file=${config}`]);
    try {
      const child = await waitForScanChild();
      await writeFile(config, (await readFile(config, 'utf8')).replace('ports: "9"', 'ports: "9,10"'));
      exporter.child.kill('SIGHUP');
      await waitForLog(exporter, 'config reloaded', 'the reload');
      const healthy = await fetch(`${exporter.baseUrl}/-/healthy`);
      assert.equal(healthy.status, 200, 'the server answers while the scan hangs');
      const failed = await waitForLog(exporter, 'scan cycle failed', 'the hung cycle to fail at its bound');
      assert.equal(loggedError(failed).code, 'NMAP_TIMEOUT');
      assert.equal(isProcessRunning(child), false, 'the child was ended with its group');
      const samples = await exporter.scrape();
      assert.equal(lookup(samples, 'exposure_config_last_reload_successful'), 1);
      assert.equal(lookup(samples, 'exposure_scan_success'), 0);
    } finally {
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }
  });
});

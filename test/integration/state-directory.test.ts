/**
 * The state directory as an attacker or an accident leaves it, through the real process: a directory anyone may
 * write (an unprivileged user plants symlinks to a root-owned victim), one with the sticky bit, a directory at
 * state.path, and a state path the exporter cannot write. The fake nmap `instant` answers every scan with a
 * recording of 127.0.0.1 (test/fixtures/fake-nmap/README.md): nothing is scanned. Requires root (setpriv).
 */
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runExporter, startExporter } from '../support/exporter-process.ts';
import { lookup, waitForLog } from '../support/fault-checks.ts';
import { readToolOutput } from '../support/run-tool.ts';

const INSTANT = new URL('../fixtures/fake-nmap/instant', import.meta.url).pathname;
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

describe('the state directory', () => {
  let dir = '';
  let victim = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-state-dir-'));
    await chmod(dir, 0o755);
    victim = join(dir, 'victim');
    await writeFile(victim, "root-owned, not the exporter's\n", { mode: 0o644 });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function writeConfig(statePath: string): Promise<string> {
    const path = join(dir, 'config.yml');
    await writeFile(
      path,
      `scan:\n  targets: ["127.0.0.1"]\n  interval: 1h\n  udp: {ports: none}\n  nmap: {path: ${JSON.stringify(INSTANT)}}\n` +
        `state: {path: ${JSON.stringify(statePath)}}\n`,
    );
    return path;
  }

  /** An unprivileged user's symlink from `name` in `shared` to the victim. */
  async function plant(shared: string, name: string): Promise<void> {
    await readToolOutput('setpriv', [...NOBODY, 'ln', '-s', victim, join(shared, name)]);
  }

  /** A directory of the test's with this mode, where `nobody` planted state.json and the old temp names. */
  async function sharedWithTraps(name: string, mode: number): Promise<string> {
    const shared = join(dir, name);
    await mkdir(shared);
    await chmod(shared, mode);
    await plant(shared, 'state.json');
    for (let pid = 1; pid <= 50; pid += 1) await plant(shared, `state.json.tmp-${pid}`);
    return shared;
  }

  it('in a directory anyone may write without the sticky bit, keeps the state in a private subdirectory; planted names stay untouched', async () => {
    const shared = await sharedWithTraps('shared', 0o777);
    const { code, stderr } = await runExporter([
      `--config.file=${await writeConfig(join(shared, 'state.json'))}`,
      '--once',
    ]);
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /msg="the state directory is writable by everyone; keeping the state in a private subdirectory"/,
    );
    assert.equal(await readFile(victim, 'utf8'), "root-owned, not the exporter's\n");
    const privateDir = await lstat(join(shared, '.exposure-exporter'));
    assert.deepEqual([privateDir.isDirectory(), privateDir.uid, privateDir.mode & 0o777], [true, 0, 0o700]);
    assert.ok((await lstat(join(shared, '.exposure-exporter', 'state.json'))).isFile());
    assert.ok((await lstat(join(shared, 'state.json'))).isSymbolicLink(), 'the planted name is left as it was');
  });

  it('refuses at start a private subdirectory an unprivileged user planted first', async () => {
    const shared = join(dir, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o777);
    await readToolOutput('setpriv', [...NOBODY, 'mkdir', '-m', '700', join(shared, '.exposure-exporter')]);
    const config = await writeConfig(join(shared, 'state.json'));
    const { code, stderr } = await runExporter([`--config.file=${config}`, '--once']);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `${config}: state.path: ${shared} is writable by everyone, and ${join(shared, '.exposure-exporter')}, where the state would go instead, ` +
        'is not a directory of this user that only it may enter; remove it, or use a directory only the exporter can write\n',
    );
  });

  it('in a shared directory with the sticky bit, moves a planted state.json aside and writes its own file, the victim untouched', async () => {
    const shared = await sharedWithTraps('sticky', 0o1777);
    const { code, stderr } = await runExporter([
      `--config.file=${await writeConfig(join(shared, 'state.json'))}`,
      '--once',
    ]);
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /msg="cannot restore state; starting without it" .*is a symbolic link, not a file; moved it to/,
    );
    assert.equal(await readFile(victim, 'utf8'), "root-owned, not the exporter's\n");
    const state = await lstat(join(shared, 'state.json'));
    assert.deepEqual([state.isFile(), state.uid, state.mode & 0o777], [true, 0, 0o600]);
    assert.equal((await readdir(shared)).filter((name) => name.startsWith('state.json.invalid-')).length, 1);
  });

  it('moves a directory at state.path aside and saves the state there, saying so in the log and the metric', async () => {
    const statePath = join(dir, 'state.json');
    await mkdir(statePath);
    await writeFile(join(statePath, 'inside'), 'kept\n');
    const exporter = await startExporter([`--config.file=${await writeConfig(statePath)}`]);
    try {
      const restore = await waitForLog(exporter, 'cannot restore state; starting without it', 'the refused state');
      assert.match(
        String((restore['err'] as { message?: string } | undefined)?.message ?? JSON.stringify(restore)),
        /is a directory, not a file; moved it to/,
      );
      const samples = await exporter.waitForMetrics(
        (now) => lookup(now, 'exposure_state_last_write_successful') !== undefined,
        'the first state write',
      );
      assert.equal(lookup(samples, 'exposure_state_last_write_successful'), 1);
      assert.ok((await lstat(statePath)).isFile());
      const aside = (await readdir(dir)).find((name) => name.startsWith('state.json.invalid-'));
      assert.equal(
        await readFile(join(dir, aside ?? 'missing', 'inside'), 'utf8'),
        'kept\n',
        'what was in the directory is kept',
      );
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });

  it('reports a state file it cannot write in exposure_state_last_write_successful, and goes on serving', async () => {
    const blocker = join(dir, 'not-a-directory');
    await writeFile(blocker, 'a file where the state directory should be\n');
    const exporter = await startExporter([`--config.file=${await writeConfig(join(blocker, 'state.json'))}`]);
    try {
      const samples = await exporter.waitForMetrics(
        (now) => lookup(now, 'exposure_state_last_write_successful') !== undefined,
        'the first state write',
      );
      assert.equal(lookup(samples, 'exposure_state_last_write_successful'), 0);
      assert.equal(lookup(samples, 'exposure_scan_success'), 1);
      const logged = await waitForLog(exporter, 'cannot save state', 'the failed write');
      assert.equal(logged['level'], 'error');
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });
});

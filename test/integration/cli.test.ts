/** The CLI's exit codes and messages, from the built dist/main.js. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runExporter, startExporter } from '../support/exporter-process.ts';

const FAKE_NMAP_HANG = new URL('../fixtures/fake-nmap/hang', import.meta.url).pathname;

const EXAMPLE = new URL('../../examples/exposure-exporter.yml', import.meta.url).pathname;

describe('command line', () => {
  let dir = '';
  let bad = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-cli-'));
    bad = join(dir, 'bad.yml');
    await writeFile(bad, 'scan:\n  targets: ["10.0.0.0/33"]\n  interval: 1hour\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('--config.check accepts the shipped example and exits 0', async () => {
    const { code, stdout } = await runExporter([`--config.file=${EXAMPLE}`, '--config.check']);
    assert.equal(code, 0);
    // 267 addresses × (1,020 TCP + 21 UDP ports) × 2 tries / 5,000 packets/s = 111.2 s; 0.4164 s an address.
    assert.equal(
      stdout,
      `${EXAMPLE}: config is valid (267 targets)\n` +
        'sweep: 267 addresses × 1020 TCP and 21 UDP ports at 5000 packets/s: about 1m51s (scan.timeout 50m)\n' +
        'known cycle: about 0.42s per known address that answers nothing; 7204 such addresses fit scan.timeout (50m)\n' +
        'history: /var/lib/exposure-exporter/history.db (closed tickets kept 400d; overdue after critical 15d, high 30d)\n',
    );
  });

  it('--config.check warns, and so does the start-up log, when a sweep cannot fit its bound at the rate', async () => {
    const slow = join(dir, 'slow.yml');
    // 4,096 addresses × 100 ports × 2 tries / 100 packets/s = 8,192 s, past the 1h sweep_timeout. The fake nmap
    // hangs, so the server started below scans nothing.
    await writeFile(
      slow,
      `scan:\n  targets: ["127.77.0.0/20"]\n  ports: "1-100"\n  udp: {ports: none}\n  sweep_timeout: 1h\n` +
        `  nmap: {max_rate: 100, path: ${JSON.stringify(FAKE_NMAP_HANG)}}\n` +
        `inventory_file: {path: ${join(dir, 'inventory.yml')}}\nstate: {path: ${join(dir, 'slow-state.json')}}\n`,
    );
    await writeFile(join(dir, 'inventory.yml'), '[]\n');
    const { code, stdout } = await runExporter([`--config.file=${slow}`, '--config.check']);
    assert.equal(code, 0);
    assert.equal(
      stdout.split('\n')[3],
      'warning: a sweep cannot finish within scan.sweep_timeout (1h) at 100 packets/s: raise scan.nmap.min_rate, scan fewer ports, shard the targets or raise the bound',
    );
    const exporter = await startExporter([`--config.file=${slow}`]);
    try {
      const warning = exporter
        .logs()
        .find((entry) => entry['msg'] === 'a sweep cannot finish within its bound at this rate');
      assert.deepEqual(
        [warning?.['level'], warning?.['sweep_seconds'], warning?.['bound_seconds']],
        ['warn', 8192, 3600],
      );
    } finally {
      assert.equal(await exporter.stop(), 0);
    }
  });

  it('--config.check prints every problem with its path and exits 1', async () => {
    const { code, stdout, stderr } = await runExporter([`--config.file=${bad}`, '--config.check']);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      `${bad}: scan.targets[0]: "10.0.0.0/33" is not a valid CIDR\n` +
        `${bad}: scan.interval: "1hour" is not a valid duration (use Prometheus syntax such as 30s, 10m, 1h)\n`,
    );
  });

  it('--config.check resolves the clouds.yaml the config names and says where the credentials come from', async () => {
    const clouds = join(dir, 'clouds.yaml');
    const config = join(dir, 'with-cloud.yml');
    await writeFile(
      clouds,
      'clouds:\n  lab:\n    auth:\n      auth_url: http://127.0.0.1:5000/v3\n      application_credential_id: ac-1\n' +
        '      application_credential_secret: S3CRET\n    auth_type: v3applicationcredential\n',
    );
    await writeFile(config, `openstack:\n  cloud: lab\n  clouds_file: ${clouds}\n`);
    const { code, stdout, stderr } = await runExporter([`--config.file=${config}`, '--config.check'], { cwd: dir });
    assert.deepEqual([code, stderr], [0, '']);
    // The first line; the durations that follow are pinned by the example's test above.
    assert.equal(
      stdout.split('\n')[0],
      `${config}: config is valid (1 targets, OpenStack credentials from cloud "lab" in ${clouds})`,
    );
  });

  it('names a bad clouds.yaml entry: --config.check exits 1, a start exits 2', async () => {
    const clouds = join(dir, 'bad-clouds.yaml');
    const config = join(dir, 'with-bad-cloud.yml');
    await writeFile(
      clouds,
      'clouds:\n  lab:\n    auth_type: v3applicationcredential\n    auth:\n      application_credential_id: ac-1\n',
    );
    await writeFile(config, `openstack:\n  cloud: lab\n  clouds_file: ${clouds}\n`);
    const check = await runExporter([`--config.file=${config}`, '--config.check'], { cwd: dir });
    const start = await runExporter([`--config.file=${config}`, '--web.listen-address=127.0.0.1:0'], { cwd: dir });
    const expected = `${clouds}: clouds.lab.auth.auth_url is required\n${clouds}: clouds.lab.auth.application_credential_secret is required\n`;
    assert.deepEqual([check.code, check.stdout, check.stderr], [1, '', expected]);
    assert.deepEqual([start.code, start.stderr], [2, expected]);
  });

  it('refuses to start on an invalid config with exit 2 and no stack trace', async () => {
    const { code, stderr } = await runExporter([`--config.file=${bad}`, '--web.listen-address=127.0.0.1:0']);
    assert.equal(code, 2);
    assert.match(stderr, /scan\.targets\[0\]: "10\.0\.0\.0\/33" is not a valid CIDR/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('rejects unknown flags and bad flag values with exit 2', async () => {
    const unknown = await runExporter(['--bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^exposure-exporter: Unknown option '--bogus'/);
    const level = await runExporter(['--log.level=loud']);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /^exposure-exporter: --log\.level="loud" must be one of debug, info, warn, error/);
  });

  it('prints its version and help', async () => {
    const version = await runExporter(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^exposure-exporter 0\.1\.0 \(revision \S+, Node\.js v24\.\d+\.\d+\)\n$/);
    const help = await runExporter(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--fail-on-findings/);
  });

  it('--once on a config whose nmap is missing exits 1 with a report saying why', async () => {
    const config = join(dir, 'no-nmap.yml');
    await writeFile(
      config,
      `scan:\n  nmap: {path: /nonexistent/nmap}\nstate: {path: ${JSON.stringify(join(dir, 'state.json'))}}\n`,
    );
    const { code, stdout } = await runExporter([`--config.file=${config}`, '--once']);
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as { scan: { success: boolean; error: { code: string; message: string } } };
    assert.equal(report.scan.success, false);
    assert.deepEqual(report.scan.error, {
      code: 'NMAP_NOT_FOUND',
      message: 'nmap was not found at "/nonexistent/nmap" (scan.nmap.path)',
    });
  });
});

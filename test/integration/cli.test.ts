/** The CLI's exit codes and messages, from the built dist/main.js. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runExporter } from '../support/exporter-process.ts';

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
    assert.equal(stdout, `${EXAMPLE}: config is valid (267 targets)\n`);
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
    assert.equal(stdout, `${config}: config is valid (1 targets, OpenStack credentials from cloud "lab" in ${clouds})\n`);
  });

  it('names a bad clouds.yaml entry: --config.check exits 1, a start exits 2', async () => {
    const clouds = join(dir, 'bad-clouds.yaml');
    const config = join(dir, 'with-bad-cloud.yml');
    await writeFile(clouds, 'clouds:\n  lab:\n    auth_type: v3applicationcredential\n    auth:\n      application_credential_id: ac-1\n');
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
    await writeFile(config, `scan:\n  nmap: {path: /nonexistent/nmap}\nstate: {path: ${JSON.stringify(join(dir, 'state.json'))}}\n`);
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

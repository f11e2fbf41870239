import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_CONFIG_FILE_BYTES, loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';

describe('loadConfig', () => {
  it('loads the shipped example config with its targets, exception and state path', async () => {
    const config = await loadConfig(new URL('../../examples/exposure-exporter.yml', import.meta.url).pathname);
    assert.deepEqual(config.scan.targetSpecs, ['203.0.113.0/24', '198.51.100.10-198.51.100.20', '2001:db8::5']);
    // 256 + 11 + 1 addresses, minus the excluded router.
    assert.equal(config.scan.targets.count, 267);
    assert.equal(config.exceptions[0]?.name, 'shop-db-approved');
    assert.deepEqual(config.exceptions[0]?.match.ports, ['3306/tcp']);
    assert.equal(config.severityOverrides.get('8080/tcp'), 'medium');
    assert.equal(config.statePath, '/var/lib/exposure-exporter/state.json');
  });

  it('names the file when it cannot be read', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'ee-load-')), 'missing.yml');
    await assert.rejects(loadConfig(path), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, `${path}: cannot read the config file: no such file`);
      return true;
    });
  });

  it('prefixes every problem with the file it came from', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'ee-load-')), 'bad.yml');
    await writeFile(path, 'scan:\n  targets: ["10.0.0.0/33"]\n');
    await assert.rejects(loadConfig(path), { message: `${path}: scan.targets[0]: "10.0.0.0/33" is not a valid CIDR` });
  });

  it('refuses bytes that are not UTF-8 in any value or key, naming each path, and lets them pass in a comment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ee-load-'));
    const path = join(dir, 'latin1.yml');
    const text =
      'scan:\n  targets: ["127.0.0.1"]  # caf\xe9\nexceptions:\n  - name: "ex\xff\xfe"\n    match: {ports: ["3306/tcp"]}\n';
    await writeFile(path, Buffer.from(text, 'latin1'));
    await assert.rejects(loadConfig(path), {
      message: `${path}: exceptions[0].name: holds bytes that are not valid UTF-8`,
    });
    await writeFile(path, Buffer.from('scan:\n  targets: ["127.0.0.1"]  # caf\xe9\n', 'latin1'));
    assert.deepEqual((await loadConfig(path)).scan.targetSpecs, ['127.0.0.1']);
  });

  it('refuses a config file over 4 MiB before reading it, naming the file and the limit', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'ee-load-')), 'huge.yml');
    await writeFile(path, `# ${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`);
    await assert.rejects(loadConfig(path), {
      message: `${path}: the config file is ${MAX_CONFIG_FILE_BYTES + 3} bytes, more than the limit of ${MAX_CONFIG_FILE_BYTES} bytes`,
    });
  });

  it('uses the built-in defaults without a file', async () => {
    const config = await loadConfig(undefined);
    assert.deepEqual(config.scan.targetSpecs, ['127.0.0.1']);
  });
});

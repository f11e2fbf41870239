import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
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

  it('uses the built-in defaults without a file', async () => {
    const config = await loadConfig(undefined);
    assert.deepEqual(config.scan.targetSpecs, ['127.0.0.1']);
  });
});

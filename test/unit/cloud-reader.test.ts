/** Reading raw cloud settings: what a message may quote, and which strings count as booleans. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudReader, parseBoolean, renderSetting } from '../../src/openstack/credentials/cloud-reader.ts';
import type { RawCloud, Setting } from '../../src/openstack/credentials/cloud-settings.ts';

function setting(key: string, value: unknown, origin = '/etc/openstack/clouds.yaml'): Setting {
  return { key, value, name: `clouds.c.${key}`, origin };
}

function rawCloud(top: Setting[]): RawCloud {
  return {
    source: { kind: 'clouds-file', cloud: 'c', path: '/etc/openstack/clouds.yaml', securePath: undefined },
    where: '/etc/openstack/clouds.yaml',
    top: new Map(top.map((s) => [s.key, s])),
    auth: new Map(),
    nameOf: (_section, key) => `clouds.c.${key}`,
    shortNameOf: (key) => key,
  };
}

describe('renderSetting', () => {
  it('quotes settings that are safe to show and names only the type of secrets and unknown keys', () => {
    assert.deepEqual(
      [
        renderSetting(setting('interface', 'private')),
        renderSetting(setting('identity_api_version', 2)),
        renderSetting(setting('password', 'hunter2')),
        renderSetting(setting('application_credential_secret', 123456)),
      ],
      ['"private"', 'a number (2)', 'a string', 'a number'],
    );
  });
});

describe('parseBoolean', () => {
  it('takes YAML booleans and the strings the OS_* variables carry, in any case', () => {
    assert.deepEqual([true, false, 'TRUE', 'yes', '1', 'False', 'no', '0', 'maybe', 1, null].map(parseBoolean), [
      true,
      false,
      true,
      true,
      true,
      false,
      false,
      false,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('CloudReader', () => {
  it('collects every problem, naming the file of a value that came from elsewhere, and records what it used', () => {
    const reader = new CloudReader(
      rawCloud([
        setting('region_name', 7, '/etc/openstack/secure.yaml'),
        setting('interface', 'public', '/etc/openstack/secure.yaml'),
        setting('verify', 'sometimes'),
      ]),
    );
    const read = [
      reader.text('top', 'region_name'),
      reader.text('top', 'interface'),
      reader.boolean('top', 'verify'),
      reader.required('top', 'cacert'),
    ];
    assert.deepEqual(read, [undefined, 'public', undefined, undefined]);
    assert.deepEqual(reader.problems, [
      'clouds.c.region_name: a number (7) must be a string (quote it in YAML) (in /etc/openstack/secure.yaml)',
      'clouds.c.verify: "sometimes" must be true or false',
      'clouds.c.cacert is required',
    ]);
    assert.deepEqual(reader.origins, { interface: '/etc/openstack/secure.yaml: clouds.c.interface' });
  });
});

/** Which clouds.yaml and secure.yaml are read: the search order, overrides, and only the first file found. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listCloudConfigCandidates, readCandidateFiles } from '../../src/openstack/credentials/clouds-search.ts';
import type { Environment } from '../../src/openstack/credentials/os-environment.ts';
import type { OpenStackConfig } from '../../src/config/schema.ts';
import {
  CWD,
  CWD_CLOUDS,
  ETC_CLOUDS,
  ETC_SECURE,
  HOME,
  HOME_CLOUDS,
  HOME_SECURE,
  MYCLOUD,
  OPENSTACK,
  clouds,
  resolve,
} from '../support/clouds-inputs.ts';

describe('listCloudConfigCandidates', () => {
  it('searches OS_CLIENT_CONFIG_FILE, ./, ~/.config/openstack and /etc/openstack, for clouds.yaml and secure.yaml', () => {
    const env = {
      OS_CLIENT_CONFIG_FILE: '/run/secrets/clouds.yaml',
      OS_CLIENT_SECURE_FILE: '/run/secrets/secure.yaml',
    };
    assert.deepEqual(listCloudConfigCandidates({ openstack: OPENSTACK, env, homeDir: HOME, cwd: CWD }), {
      clouds: ['/run/secrets/clouds.yaml', CWD_CLOUDS, HOME_CLOUDS, ETC_CLOUDS],
      secure: ['/run/secrets/secure.yaml', '/srv/exporter/secure.yaml', HOME_SECURE, ETC_SECURE],
    });
  });

  it('leaves out unset or empty override variables', () => {
    const candidates = listCloudConfigCandidates({
      openstack: OPENSTACK,
      env: { OS_CLIENT_CONFIG_FILE: '' },
      homeDir: HOME,
      cwd: CWD,
    });
    assert.deepEqual(candidates.clouds, [CWD_CLOUDS, HOME_CLOUDS, ETC_CLOUDS]);
  });

  it('replaces the clouds.yaml search with openstack.clouds_file but still searches secure.yaml', () => {
    const openstack = { ...OPENSTACK, cloudsFile: '/etc/exposure-exporter/clouds.yaml' };
    const env = { OS_CLIENT_CONFIG_FILE: '/run/secrets/clouds.yaml' };
    assert.deepEqual(listCloudConfigCandidates({ openstack, env, homeDir: HOME, cwd: CWD }), {
      clouds: ['/etc/exposure-exporter/clouds.yaml'],
      secure: ['/srv/exporter/secure.yaml', HOME_SECURE, ETC_SECURE],
    });
  });

  it('lists a directory once when the working directory is the config directory', () => {
    const candidates = listCloudConfigCandidates({
      openstack: OPENSTACK,
      env: {},
      homeDir: HOME,
      cwd: '/etc/openstack',
    });
    assert.deepEqual(candidates.clouds, [ETC_CLOUDS, HOME_CLOUDS]);
  });
});

describe('readCandidateFiles', () => {
  it('reads each list up to its first file that exists and no further', async () => {
    const asked: string[] = [];
    const present = new Set([HOME_CLOUDS, ETC_CLOUDS, ETC_SECURE]);
    const files = await readCandidateFiles(
      { clouds: [CWD_CLOUDS, HOME_CLOUDS, ETC_CLOUDS], secure: ['/srv/exporter/secure.yaml', HOME_SECURE, ETC_SECURE] },
      async (path) => {
        asked.push(path);
        return present.has(path) ? { value: { clouds: { from: path } } } : undefined;
      },
    );
    assert.deepEqual(asked, [CWD_CLOUDS, HOME_CLOUDS, '/srv/exporter/secure.yaml', HOME_SECURE, ETC_SECURE]);
    assert.deepEqual(files, [
      { path: HOME_CLOUDS, value: { clouds: { from: HOME_CLOUDS } } },
      { path: ETC_SECURE, value: { clouds: { from: ETC_SECURE } } },
    ]);
  });

  it('keeps an empty file, which YAML reads as null, as a file that exists', async () => {
    const files = await readCandidateFiles({ clouds: [HOME_CLOUDS], secure: [] }, async () => ({ value: null }));
    assert.deepEqual(files, [{ path: HOME_CLOUDS, value: null }]);
  });
});

describe('the search order (through resolveCloudCredentials)', () => {
  const searchOrder: {
    name: string;
    env?: Environment;
    openstack?: Partial<OpenStackConfig>;
    present: string[];
    expected: string;
  }[] = [
    { name: '/etc/openstack when it is the only one', present: [ETC_CLOUDS], expected: ETC_CLOUDS },
    { name: '~/.config/openstack over /etc/openstack', present: [ETC_CLOUDS, HOME_CLOUDS], expected: HOME_CLOUDS },
    {
      name: './clouds.yaml over ~/.config/openstack',
      present: [ETC_CLOUDS, HOME_CLOUDS, CWD_CLOUDS],
      expected: CWD_CLOUDS,
    },
    {
      name: 'OS_CLIENT_CONFIG_FILE over ./clouds.yaml',
      env: { OS_CLIENT_CONFIG_FILE: '/run/clouds.yaml' },
      present: [CWD_CLOUDS, '/run/clouds.yaml'],
      expected: '/run/clouds.yaml',
    },
    {
      name: 'OS_CLIENT_CONFIG_FILE skipped when it does not exist, as openstacksdk does',
      env: { OS_CLIENT_CONFIG_FILE: '/run/clouds.yaml' },
      present: [HOME_CLOUDS],
      expected: HOME_CLOUDS,
    },
    {
      name: 'openstack.clouds_file over OS_CLIENT_CONFIG_FILE and every searched file',
      env: { OS_CLIENT_CONFIG_FILE: '/run/clouds.yaml' },
      openstack: { cloudsFile: '/opt/clouds.yaml' },
      present: ['/run/clouds.yaml', CWD_CLOUDS, '/opt/clouds.yaml'],
      expected: '/opt/clouds.yaml',
    },
    { name: 'no file that is not a candidate', present: ['/tmp/clouds.yaml', ETC_CLOUDS], expected: ETC_CLOUDS },
  ];
  for (const { name, env, openstack, present, expected } of searchOrder) {
    it(`takes the first clouds.yaml of the search order: ${name}`, () => {
      // Each file names its own region, so the region tells which file was read.
      const files = present.map((path) => clouds(path, { mycloud: { ...MYCLOUD, region_name: path } }));
      const credentials = resolve({ openstack: { cloud: 'mycloud', ...openstack }, env: env ?? {}, files });
      assert.deepEqual(
        [credentials.source, credentials.regionName],
        [{ kind: 'clouds-file', cloud: 'mycloud', path: expected, securePath: undefined }, expected],
      );
    });
  }
});

/** A named cloud from clouds.yaml with secure.yaml merged over it, and the errors about finding it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CWD_CLOUDS,
  ETC_CLOUDS,
  ETC_SECURE,
  HOME_CLOUDS,
  HOME_SECURE,
  MYCLOUD,
  PASSWORD,
  clouds,
  messageOf,
  resolve,
} from '../support/clouds-inputs.ts';
import type { Input } from '../support/clouds-inputs.ts';

describe('parseNamedCloud (through resolveCloudCredentials)', () => {
  it('resolves a clouds.yaml entry with its password from secure.yaml, naming where each setting came from', () => {
    const { password: _password, ...authWithoutPassword } = MYCLOUD.auth;
    const credentials = resolve({
      openstack: { cloud: 'mycloud' },
      files: [
        clouds(ETC_CLOUDS, { mycloud: { ...MYCLOUD, auth: authWithoutPassword } }),
        clouds(HOME_SECURE, { mycloud: { auth: { password: PASSWORD } } }),
      ],
    });
    assert.deepEqual(credentials, {
      source: { kind: 'clouds-file', cloud: 'mycloud', path: ETC_CLOUDS, securePath: HOME_SECURE },
      authUrl: 'https://keystone.example.com:5000/v3',
      auth: {
        type: 'password',
        user: { name: 'exporter', domain: { name: 'Default' } },
        password: PASSWORD,
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
      regionName: 'RegionOne',
      interface: 'public',
      verify: true,
      cacert: undefined,
      origins: {
        auth_url: `${ETC_CLOUDS}: clouds.mycloud.auth.auth_url`,
        auth_type: 'default',
        password: `${HOME_SECURE}: clouds.mycloud.auth.password`,
        username: `${ETC_CLOUDS}: clouds.mycloud.auth.username`,
        user_domain_name: `${ETC_CLOUDS}: clouds.mycloud.auth.user_domain_name`,
        project_name: `${ETC_CLOUDS}: clouds.mycloud.auth.project_name`,
        project_domain_name: `${ETC_CLOUDS}: clouds.mycloud.auth.project_domain_name`,
        region_name: `${ETC_CLOUDS}: clouds.mycloud.region_name`,
        interface: 'default',
        verify: 'default',
      },
    });
  });

  it('merges secure.yaml over clouds.yaml key by key, within auth too, and takes the first secure.yaml found', () => {
    const credentials = resolve({
      openstack: { cloud: 'mycloud' },
      files: [
        clouds(HOME_CLOUDS, { mycloud: { ...MYCLOUD, auth: { ...MYCLOUD.auth, password: 'in-clouds-yaml' } } }),
        clouds(HOME_SECURE, { mycloud: { region_name: 'RegionTwo', auth: { password: PASSWORD } } }),
        clouds(ETC_SECURE, { mycloud: { region_name: 'RegionThree', auth: { username: 'not-read' } } }),
      ],
    });
    assert.deepEqual(
      [credentials.auth, credentials.regionName, credentials.origins['region_name'], credentials.source],
      [
        {
          type: 'password',
          user: { name: 'exporter', domain: { name: 'Default' } },
          password: PASSWORD,
          scope: { project: { name: 'admin', domain: { name: 'Default' } } },
        },
        'RegionTwo',
        `${HOME_SECURE}: clouds.mycloud.region_name`,
        { kind: 'clouds-file', cloud: 'mycloud', path: HOME_CLOUDS, securePath: HOME_SECURE },
      ],
    );
  });

  it('finds a cloud that only secure.yaml has', () => {
    const credentials = resolve({
      env: { OS_CLOUD: 'hidden' },
      files: [clouds(HOME_CLOUDS, {}), clouds(ETC_SECURE, { hidden: MYCLOUD })],
    });
    assert.deepEqual(credentials.source, {
      kind: 'clouds-file',
      cloud: 'hidden',
      path: ETC_SECURE,
      securePath: ETC_SECURE,
    });
    assert.equal(credentials.origins['auth_url'], `${ETC_SECURE}: clouds.hidden.auth.auth_url`);
  });

  const invalid: { name: string; input: Input; message: string }[] = [
    {
      name: 'a cloud that is not in the file',
      input: {
        openstack: { cloud: 'mycloud' },
        homeDir: '/root',
        files: [clouds('/root/.config/openstack/clouds.yaml', { a: MYCLOUD, b: MYCLOUD })],
      },
      message: 'openstack.cloud: "mycloud" is not in /root/.config/openstack/clouds.yaml (clouds: a, b)',
    },
    {
      name: 'an OS_CLOUD that is not in the file, which has no clouds',
      input: { env: { OS_CLOUD: 'mycloud' }, files: [{ path: HOME_CLOUDS, value: null }] },
      message: `OS_CLOUD: "mycloud" is not in ${HOME_CLOUDS} (clouds: none)`,
    },
    {
      name: 'a named cloud without any clouds.yaml',
      input: { env: { OS_CLOUD: 'mycloud' } },
      message: `OS_CLOUD: "mycloud" needs a clouds.yaml, but none was found (looked for ${CWD_CLOUDS}, ${HOME_CLOUDS}, ${ETC_CLOUDS})`,
    },
    {
      name: 'a bad value that came from secure.yaml, naming that file',
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: MYCLOUD }), clouds(ETC_SECURE, { c: { auth: { password: [PASSWORD] } } })],
      },
      message: `${HOME_CLOUDS}: clouds.c.auth.password: a list must be a string (quote it in YAML) (in ${ETC_SECURE})`,
    },
    {
      name: 'a file that is not a mapping',
      input: { openstack: { cloud: 'c' }, files: [{ path: HOME_CLOUDS, value: ['c'] }] },
      message: `${HOME_CLOUDS}: must be a mapping with a clouds key, got a list`,
    },
    {
      name: 'a cloud entry that is not a mapping',
      input: { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: 'nope' })] },
      message: `${HOME_CLOUDS}: clouds.c: must be a mapping, got a string`,
    },
    {
      name: 'a cloud name that needs quoting in a key path',
      input: { openstack: { cloud: 'my cloud' }, files: [clouds(HOME_CLOUDS, { 'my cloud': { auth: {} } })] },
      message: [
        `${HOME_CLOUDS}: clouds["my cloud"].auth.auth_url is required`,
        `${HOME_CLOUDS}: clouds["my cloud"].auth.password is required`,
        `${HOME_CLOUDS}: clouds["my cloud"].auth.username or user_id is required`,
        `${HOME_CLOUDS}: clouds["my cloud"].auth.project_name or project_id is required (or system_scope: all for a system scope)`,
      ].join('\n'),
    },
  ];
  for (const { name, input, message } of invalid) {
    it(`refuses ${name}`, () => {
      assert.equal(messageOf(input), message);
    });
  }
});

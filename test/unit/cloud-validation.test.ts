/** The settings around the auth: auth_url, auth_type, region, interface, TLS and the identity API version. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ETC_CLOUDS, HOME_CLOUDS, MYCLOUD, PASSWORD, clouds, messageOf, resolve } from '../support/clouds-inputs.ts';
import type { Input } from '../support/clouds-inputs.ts';

describe('parseCredentials (through resolveCloudCredentials)', () => {
  it('lets openstack.region_name and openstack.interface override the cloud', () => {
    const credentials = resolve({
      openstack: { cloud: 'mycloud', regionName: 'RegionTwo', interface: 'admin' },
      files: [clouds(HOME_CLOUDS, { mycloud: { ...MYCLOUD, interface: 'internal' } })],
    });
    assert.deepEqual(
      [
        credentials.regionName,
        credentials.interface,
        credentials.origins['region_name'],
        credentials.origins['interface'],
      ],
      ['RegionTwo', 'admin', 'openstack.region_name', 'openstack.interface'],
    );
  });

  it("keeps the cloud's interface when openstack.interface is not set, accepting the v2 spelling", () => {
    const credentials = resolve({
      openstack: { cloud: 'mycloud' },
      files: [clouds(HOME_CLOUDS, { mycloud: { ...MYCLOUD, interface: 'internalURL' } })],
    });
    assert.deepEqual(
      [credentials.interface, credentials.origins['interface']],
      ['internal', `${HOME_CLOUDS}: clouds.mycloud.interface`],
    );
  });

  it("takes the first of a cloud's regions when it names no region_name", () => {
    const credentials = resolve({
      openstack: { cloud: 'mycloud' },
      files: [
        clouds(HOME_CLOUDS, { mycloud: { auth: MYCLOUD.auth, regions: [{ name: 'North', values: {} }, 'South'] } }),
      ],
    });
    assert.deepEqual(
      [credentials.regionName, credentials.origins['region_name']],
      ['North', `${HOME_CLOUDS}: clouds.mycloud.regions[0]`],
    );
  });

  const tlsCases: { name: string; top: Record<string, unknown>; verify: boolean; cacert: string | undefined }[] = [
    { name: 'verify: false', top: { verify: false }, verify: false, cacert: undefined },
    { name: 'verify: "False" as a string', top: { verify: 'False' }, verify: false, cacert: undefined },
    { name: 'insecure: true (the older spelling)', top: { insecure: true }, verify: false, cacert: undefined },
    { name: 'verify winning over insecure', top: { verify: true, insecure: true }, verify: true, cacert: undefined },
    {
      name: 'a cacert path, ~ expanded',
      top: { cacert: '~/.config/openstack/ca.pem' },
      verify: true,
      cacert: '/home/op/.config/openstack/ca.pem',
    },
    {
      name: 'an absolute cacert path',
      top: { cacert: '/etc/ssl/cloud-ca.pem' },
      verify: true,
      cacert: '/etc/ssl/cloud-ca.pem',
    },
  ];
  for (const { name, top, verify, cacert } of tlsCases) {
    it(`reads TLS settings: ${name}`, () => {
      const credentials = resolve({
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { ...MYCLOUD, ...top } })],
      });
      assert.deepEqual([credentials.verify, credentials.cacert], [verify, cacert]);
    });
  }

  const invalid: { name: string; input: Input; message: string }[] = [
    {
      name: 'a missing auth_url',
      input: {
        openstack: { cloud: 'mycloud' },
        files: [clouds(ETC_CLOUDS, { mycloud: { auth: { ...MYCLOUD.auth, auth_url: undefined } } })],
      },
      message: '/etc/openstack/clouds.yaml: clouds.mycloud.auth.auth_url is required',
    },
    {
      name: 'an unsupported OS_AUTH_TYPE',
      input: {
        env: {
          OS_AUTH_URL: 'https://k/v3',
          OS_AUTH_TYPE: 'token',
          OS_PASSWORD: PASSWORD,
          OS_USER_ID: 'u',
          OS_PROJECT_ID: 'p',
        },
      },
      message:
        'environment: OS_AUTH_TYPE: "token" is not supported (use password, v3password or v3applicationcredential)',
    },
    {
      name: 'an unsupported auth_type in a file',
      input: {
        openstack: { cloud: 'mycloud' },
        files: [clouds(ETC_CLOUDS, { mycloud: { ...MYCLOUD, auth_type: 'v3oidcpassword' } })],
      },
      message:
        '/etc/openstack/clouds.yaml: clouds.mycloud.auth_type: "v3oidcpassword" is not supported (use password, v3password or v3applicationcredential)',
    },
    {
      name: 'values of the wrong type, rendering non-secret ones only',
      input: {
        openstack: { cloud: 'c' },
        files: [
          clouds(HOME_CLOUDS, {
            c: {
              ...MYCLOUD,
              auth: { ...MYCLOUD.auth, password: 123456, project_name: 42 },
              interface: 'private',
              verify: 'maybe',
            },
          }),
        ],
      },
      message: [
        `${HOME_CLOUDS}: clouds.c.auth.password: a number must be a string (quote it in YAML)`,
        `${HOME_CLOUDS}: clouds.c.auth.project_name: a number must be a string (quote it in YAML)`,
        `${HOME_CLOUDS}: clouds.c.interface: "private" must be one of public, internal, admin`,
        `${HOME_CLOUDS}: clouds.c.verify: "maybe" must be true or false (put a CA bundle's path in cacert)`,
      ].join('\n'),
    },
    {
      name: 'an auth_url that is not a URL',
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, auth_url: 'keystone:5000' } } })],
      },
      message: `${HOME_CLOUDS}: clouds.c.auth.auth_url: "keystone:5000" must be an http or https URL`,
    },
    {
      name: 'an auth_url with a password in it, which is not echoed',
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, auth_url: `https://u:${PASSWORD}@k/v3` } } })],
      },
      message: `${HOME_CLOUDS}: clouds.c.auth.auth_url: must not contain a user name or password`,
    },
    {
      name: 'Keystone v2',
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { ...MYCLOUD, identity_api_version: 2 } })],
      },
      message: `${HOME_CLOUDS}: clouds.c.identity_api_version: a number (2) is not supported (only Keystone v3 is)`,
    },
    {
      name: 'an empty string',
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, username: '' } } })],
      },
      message: `${HOME_CLOUDS}: clouds.c.auth.username: must not be empty`,
    },
    {
      name: 'an OS_INSECURE that is not a boolean',
      input: {
        env: {
          OS_AUTH_URL: 'https://k',
          OS_USER_ID: 'u',
          OS_PASSWORD: PASSWORD,
          OS_PROJECT_ID: 'p',
          OS_INSECURE: 'sometimes',
        },
      },
      message: 'environment: OS_INSECURE: "sometimes" must be true or false',
    },
  ];
  for (const { name, input, message } of invalid) {
    it(`refuses ${name}`, () => {
      assert.equal(messageOf(input), message);
    });
  }
});

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listCloudConfigCandidates, resolveCloudCredentials } from '../../src/cloud/clouds-config.ts';
import type { CloudCredentials, Environment, ParsedCloudFile } from '../../src/cloud/clouds-config.ts';
import { loadCloudCredentials } from '../../src/config/load.ts';
import type { OpenStackConfig } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';
import { OPENSTACK_DEFAULTS } from '../support/openstack-lab.ts';

const HOME = '/home/op';
const CWD = '/srv/exporter';
const CWD_CLOUDS = '/srv/exporter/clouds.yaml';
const HOME_CLOUDS = '/home/op/.config/openstack/clouds.yaml';
const ETC_CLOUDS = '/etc/openstack/clouds.yaml';
const HOME_SECURE = '/home/op/.config/openstack/secure.yaml';
const ETC_SECURE = '/etc/openstack/secure.yaml';

const PASSWORD = 'hunter2-S3CRET';
const APP_SECRET = 'appcred-S3CRET';

const OPENSTACK: OpenStackConfig = OPENSTACK_DEFAULTS;

/** A complete password cloud, as `openstack` CLI users write it. */
const MYCLOUD = {
  auth: {
    auth_url: 'https://keystone.example.com:5000/v3',
    username: 'exporter',
    password: PASSWORD,
    project_name: 'admin',
    user_domain_name: 'Default',
    project_domain_name: 'Default',
  },
  region_name: 'RegionOne',
};

interface Input {
  openstack?: Partial<OpenStackConfig>;
  env?: Environment;
  files?: readonly ParsedCloudFile[];
  homeDir?: string;
}

function resolve(input: Input): CloudCredentials {
  return resolveCloudCredentials({
    openstack: { ...OPENSTACK, ...input.openstack },
    env: input.env ?? {},
    homeDir: input.homeDir ?? HOME,
    cwd: CWD,
    files: input.files ?? [],
  });
}

function clouds(path: string, entries: Record<string, unknown>): ParsedCloudFile {
  return { path, value: { clouds: entries } };
}

/** The ConfigError message resolve throws, or a failure when it resolves. */
function messageOf(input: Input): string {
  try {
    resolve(input);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('listCloudConfigCandidates', () => {
  it('searches OS_CLIENT_CONFIG_FILE, ./, ~/.config/openstack and /etc/openstack, for clouds.yaml and secure.yaml', () => {
    const env = { OS_CLIENT_CONFIG_FILE: '/run/secrets/clouds.yaml', OS_CLIENT_SECURE_FILE: '/run/secrets/secure.yaml' };
    assert.deepEqual(listCloudConfigCandidates({ openstack: OPENSTACK, env, homeDir: HOME, cwd: CWD }), {
      clouds: ['/run/secrets/clouds.yaml', CWD_CLOUDS, HOME_CLOUDS, ETC_CLOUDS],
      secure: ['/run/secrets/secure.yaml', '/srv/exporter/secure.yaml', HOME_SECURE, ETC_SECURE],
    });
  });

  it('leaves out unset or empty override variables', () => {
    const candidates = listCloudConfigCandidates({ openstack: OPENSTACK, env: { OS_CLIENT_CONFIG_FILE: '' }, homeDir: HOME, cwd: CWD });
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
    const candidates = listCloudConfigCandidates({ openstack: OPENSTACK, env: {}, homeDir: HOME, cwd: '/etc/openstack' });
    assert.deepEqual(candidates.clouds, [ETC_CLOUDS, HOME_CLOUDS]);
  });
});

describe('resolveCloudCredentials', () => {
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

  const searchOrder: { name: string; env?: Environment; openstack?: Partial<OpenStackConfig>; present: string[]; expected: string }[] = [
    { name: '/etc/openstack when it is the only one', present: [ETC_CLOUDS], expected: ETC_CLOUDS },
    { name: '~/.config/openstack over /etc/openstack', present: [ETC_CLOUDS, HOME_CLOUDS], expected: HOME_CLOUDS },
    { name: './clouds.yaml over ~/.config/openstack', present: [ETC_CLOUDS, HOME_CLOUDS, CWD_CLOUDS], expected: CWD_CLOUDS },
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
      assert.deepEqual([credentials.source, credentials.regionName], [
        { kind: 'clouds-file', cloud: 'mycloud', path: expected, securePath: undefined },
        expected,
      ]);
    });
  }

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
    const credentials = resolve({ env: { OS_CLOUD: 'hidden' }, files: [clouds(HOME_CLOUDS, {}), clouds(ETC_SECURE, { hidden: MYCLOUD })] });
    assert.deepEqual(credentials.source, { kind: 'clouds-file', cloud: 'hidden', path: ETC_SECURE, securePath: ETC_SECURE });
    assert.equal(credentials.origins['auth_url'], `${ETC_SECURE}: clouds.hidden.auth.auth_url`);
  });

  it('selects the cloud named by OS_CLOUD', () => {
    const credentials = resolve({
      env: { OS_CLOUD: 'second' },
      files: [clouds(HOME_CLOUDS, { first: { ...MYCLOUD, region_name: 'One' }, second: { ...MYCLOUD, region_name: 'Two' } })],
    });
    assert.deepEqual([credentials.source, credentials.regionName], [
      { kind: 'clouds-file', cloud: 'second', path: HOME_CLOUDS, securePath: undefined },
      'Two',
    ]);
  });

  it('prefers openstack.cloud over OS_CLOUD, and a named cloud over the OS_* variables', () => {
    const credentials = resolve({
      openstack: { cloud: 'first' },
      env: { OS_CLOUD: 'second', OS_AUTH_URL: 'https://other.example.com/v3', OS_USERNAME: 'other' },
      files: [clouds(HOME_CLOUDS, { first: { ...MYCLOUD, region_name: 'One' }, second: { ...MYCLOUD, region_name: 'Two' } })],
    });
    assert.deepEqual([credentials.regionName, credentials.authUrl], ['One', 'https://keystone.example.com:5000/v3']);
  });

  it('reads the plain OS_* variables when no cloud is named, ignoring empty ones', () => {
    const credentials = resolve({
      env: {
        OS_AUTH_URL: 'http://127.0.0.1:5000/v3',
        OS_USERNAME: 'admin',
        OS_PASSWORD: PASSWORD,
        OS_PROJECT_NAME: 'admin',
        OS_PROJECT_ID: '',
        OS_USER_DOMAIN_NAME: 'Default',
        OS_PROJECT_DOMAIN_ID: 'default',
        OS_REGION_NAME: 'RegionOne',
        OS_INTERFACE: 'internal',
        OS_AUTH_TYPE: 'v3password',
        OS_IDENTITY_API_VERSION: '3',
        OS_INSECURE: 'false',
        OS_CACERT: '~/ca.pem',
      },
      files: [clouds(HOME_CLOUDS, { mycloud: MYCLOUD })],
    });
    assert.deepEqual(credentials, {
      source: { kind: 'environment' },
      authUrl: 'http://127.0.0.1:5000/v3',
      auth: {
        type: 'password',
        user: { name: 'admin', domain: { name: 'Default' } },
        password: PASSWORD,
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
      regionName: 'RegionOne',
      interface: 'internal',
      verify: true,
      cacert: '/home/op/ca.pem',
      origins: {
        auth_url: 'OS_AUTH_URL',
        auth_type: 'OS_AUTH_TYPE',
        password: 'OS_PASSWORD',
        username: 'OS_USERNAME',
        user_domain_name: 'OS_USER_DOMAIN_NAME',
        project_name: 'OS_PROJECT_NAME',
        project_domain_id: 'OS_PROJECT_DOMAIN_ID',
        region_name: 'OS_REGION_NAME',
        interface: 'OS_INTERFACE',
        verify: 'OS_INSECURE',
        cacert: 'OS_CACERT',
      },
    });
  });

  it('lets openstack.region_name and openstack.interface override the cloud', () => {
    const credentials = resolve({
      openstack: { cloud: 'mycloud', regionName: 'RegionTwo', interface: 'admin' },
      files: [clouds(HOME_CLOUDS, { mycloud: { ...MYCLOUD, interface: 'internal' } })],
    });
    assert.deepEqual(
      [credentials.regionName, credentials.interface, credentials.origins['region_name'], credentials.origins['interface']],
      ['RegionTwo', 'admin', 'openstack.region_name', 'openstack.interface'],
    );
  });

  it("keeps the cloud's interface when openstack.interface is not set, accepting the v2 spelling", () => {
    const credentials = resolve({
      openstack: { cloud: 'mycloud' },
      files: [clouds(HOME_CLOUDS, { mycloud: { ...MYCLOUD, interface: 'internalURL' } })],
    });
    assert.deepEqual([credentials.interface, credentials.origins['interface']], ['internal', `${HOME_CLOUDS}: clouds.mycloud.interface`]);
  });

  it("takes the first of a cloud's regions when it names no region_name", () => {
    const credentials = resolve({
      openstack: { cloud: 'mycloud' },
      files: [clouds(HOME_CLOUDS, { mycloud: { auth: MYCLOUD.auth, regions: [{ name: 'North', values: {} }, 'South'] } })],
    });
    assert.deepEqual([credentials.regionName, credentials.origins['region_name']], ['North', `${HOME_CLOUDS}: clouds.mycloud.regions[0]`]);
  });

  const authCases: { name: string; auth: Record<string, unknown>; top?: Record<string, unknown>; expected: CloudCredentials['auth'] }[] = [
    {
      name: 'an application credential by id, ignoring project settings it cannot use',
      top: { auth_type: 'v3applicationcredential' },
      auth: { application_credential_id: 'ac-1', application_credential_secret: APP_SECRET, project_name: 'admin' },
      expected: { type: 'v3applicationcredential', credential: { id: 'ac-1' }, secret: APP_SECRET },
    },
    {
      name: 'an application credential by name with its user and domain',
      top: { auth_type: 'v3applicationcredential' },
      auth: { application_credential_name: 'oslab-exporter', application_credential_secret: APP_SECRET, username: 'admin', user_domain_id: 'default' },
      expected: {
        type: 'v3applicationcredential',
        credential: { name: 'oslab-exporter', user: { name: 'admin', domain: { id: 'default' } } },
        secret: APP_SECRET,
      },
    },
    {
      name: 'an application credential by name with a user id',
      top: { auth_type: 'v3applicationcredential' },
      auth: { application_credential_name: 'oslab-exporter', application_credential_secret: APP_SECRET, user_id: 'u-1' },
      expected: { type: 'v3applicationcredential', credential: { name: 'oslab-exporter', user: { id: 'u-1' } }, secret: APP_SECRET },
    },
    {
      name: 'a system-scoped password user by id',
      top: { auth_type: 'password' },
      auth: { user_id: 'u-2', password: PASSWORD, system_scope: 'all' },
      expected: { type: 'password', user: { id: 'u-2' }, password: PASSWORD, scope: { system: 'all' } },
    },
    {
      name: 'ids winning over names, as keystoneauth has it',
      auth: { user_id: 'u-3', username: 'rita', password: PASSWORD, project_id: 'p-1', project_name: 'alpha' },
      expected: { type: 'password', user: { id: 'u-3' }, password: PASSWORD, scope: { project: { id: 'p-1' } } },
    },
    {
      name: 'the domain_name shorthand standing for both the user and the project domain',
      auth: { username: 'rita', password: PASSWORD, project_name: 'alpha', domain_name: 'Lab', project_domain_id: 'lab-id' },
      expected: {
        type: 'password',
        user: { name: 'rita', domain: { name: 'Lab' } },
        password: PASSWORD,
        scope: { project: { name: 'alpha', domain: { id: 'lab-id' } } },
      },
    },
  ];
  for (const { name, auth, top, expected } of authCases) {
    it(`resolves ${name}`, () => {
      const entry = { ...top, auth: { auth_url: 'http://127.0.0.1:5000', ...auth } };
      const credentials = resolve({ openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: entry })] });
      assert.deepEqual(credentials.auth, expected);
    });
  }

  it('records the domain shorthand under the setting it stood for', () => {
    const credentials = resolve({
      openstack: { cloud: 'c' },
      files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, user_domain_name: undefined, project_domain_name: undefined, domain_id: 'default' } } })],
    });
    assert.deepEqual(
      [credentials.origins['user_domain_id'], credentials.origins['project_domain_id'], credentials.origins['domain_id']],
      [`${HOME_CLOUDS}: clouds.c.auth.domain_id`, `${HOME_CLOUDS}: clouds.c.auth.domain_id`, undefined],
    );
  });

  const tlsCases: { name: string; top: Record<string, unknown>; verify: boolean; cacert: string | undefined }[] = [
    { name: 'verify: false', top: { verify: false }, verify: false, cacert: undefined },
    { name: 'verify: "False" as a string', top: { verify: 'False' }, verify: false, cacert: undefined },
    { name: 'insecure: true (the older spelling)', top: { insecure: true }, verify: false, cacert: undefined },
    { name: 'verify winning over insecure', top: { verify: true, insecure: true }, verify: true, cacert: undefined },
    { name: 'a cacert path, ~ expanded', top: { cacert: '~/.config/openstack/ca.pem' }, verify: true, cacert: '/home/op/.config/openstack/ca.pem' },
    { name: 'an absolute cacert path', top: { cacert: '/etc/ssl/cloud-ca.pem' }, verify: true, cacert: '/etc/ssl/cloud-ca.pem' },
  ];
  for (const { name, top, verify, cacert } of tlsCases) {
    it(`reads TLS settings: ${name}`, () => {
      const credentials = resolve({ openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { ...MYCLOUD, ...top } })] });
      assert.deepEqual([credentials.verify, credentials.cacert], [verify, cacert]);
    });
  }

  it('reads OS_INSECURE=true as verify false', () => {
    const credentials = resolve({
      env: { OS_AUTH_URL: 'https://k/v3', OS_USER_ID: 'u', OS_PASSWORD: PASSWORD, OS_PROJECT_ID: 'p', OS_INSECURE: 'TRUE' },
    });
    assert.deepEqual([credentials.verify, credentials.origins['verify']], [false, 'OS_INSECURE']);
  });

  const invalid: { name: string; input: Input; message: string }[] = [
    {
      name: 'a missing auth_url',
      input: { openstack: { cloud: 'mycloud' }, files: [clouds(ETC_CLOUDS, { mycloud: { auth: { ...MYCLOUD.auth, auth_url: undefined } } })] },
      message: '/etc/openstack/clouds.yaml: clouds.mycloud.auth.auth_url is required',
    },
    {
      name: 'a cloud that is not in the file',
      input: { openstack: { cloud: 'mycloud' }, homeDir: '/root', files: [clouds('/root/.config/openstack/clouds.yaml', { a: MYCLOUD, b: MYCLOUD })] },
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
      name: 'an openstack.clouds_file that does not exist',
      input: { openstack: { cloud: 'mycloud', cloudsFile: '/opt/clouds.yaml' }, files: [clouds(HOME_CLOUDS, { mycloud: MYCLOUD })] },
      message: 'openstack.clouds_file: "/opt/clouds.yaml" does not exist',
    },
    {
      name: 'no cloud named and no OS_* credentials',
      input: { env: { OS_REGION_NAME: 'RegionOne' }, files: [clouds(HOME_CLOUDS, { a: MYCLOUD, b: MYCLOUD })] },
      message: `openstack: no cloud selected: set openstack.cloud or OS_CLOUD (clouds in ${HOME_CLOUDS}: a, b), or the OS_* variables (OS_AUTH_URL, OS_USERNAME, ...)`,
    },
    {
      name: 'an unsupported OS_AUTH_TYPE',
      input: { env: { OS_AUTH_URL: 'https://k/v3', OS_AUTH_TYPE: 'token', OS_PASSWORD: PASSWORD, OS_USER_ID: 'u', OS_PROJECT_ID: 'p' } },
      message: 'environment: OS_AUTH_TYPE: "token" is not supported (use password, v3password or v3applicationcredential)',
    },
    {
      name: 'an unsupported auth_type in a file',
      input: { openstack: { cloud: 'mycloud' }, files: [clouds(ETC_CLOUDS, { mycloud: { ...MYCLOUD, auth_type: 'v3oidcpassword' } })] },
      message: '/etc/openstack/clouds.yaml: clouds.mycloud.auth_type: "v3oidcpassword" is not supported (use password, v3password or v3applicationcredential)',
    },
    {
      name: 'every missing OS_* credential at once',
      input: { env: { OS_USERNAME: 'admin', OS_PROJECT_NAME: 'admin' } },
      message: [
        'environment: OS_AUTH_URL is required',
        'environment: OS_PASSWORD is required',
        'environment: OS_USER_DOMAIN_NAME or OS_USER_DOMAIN_ID is required with OS_USERNAME',
        'environment: OS_PROJECT_DOMAIN_NAME or OS_PROJECT_DOMAIN_ID is required with OS_PROJECT_NAME',
      ].join('\n'),
    },
    {
      name: 'a password cloud without user or scope',
      input: { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { auth: { auth_url: 'https://k', password: PASSWORD } } })] },
      message: [
        `${HOME_CLOUDS}: clouds.c.auth.username or user_id is required`,
        `${HOME_CLOUDS}: clouds.c.auth.project_name or project_id is required (or system_scope: all for a system scope)`,
      ].join('\n'),
    },
    {
      name: 'a missing project in the environment',
      input: { env: { OS_AUTH_URL: 'https://k', OS_USER_ID: 'u', OS_PASSWORD: PASSWORD } },
      message: 'environment: OS_PROJECT_NAME or OS_PROJECT_ID is required (or OS_SYSTEM_SCOPE=all for a system scope)',
    },
    {
      name: 'an application credential secret without a type',
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { auth: { auth_url: 'https://k', application_credential_id: 'ac', application_credential_secret: APP_SECRET } } })],
      },
      message: [
        `${HOME_CLOUDS}: clouds.c.auth.password is required (or set clouds.c.auth_type to v3applicationcredential)`,
        `${HOME_CLOUDS}: clouds.c.auth.username or user_id is required`,
        `${HOME_CLOUDS}: clouds.c.auth.project_name or project_id is required (or system_scope: all for a system scope)`,
      ].join('\n'),
    },
    {
      name: 'an application credential without id, name or secret',
      input: { env: { OS_AUTH_URL: 'https://k', OS_AUTH_TYPE: 'v3applicationcredential' } },
      message: [
        'environment: OS_APPLICATION_CREDENTIAL_SECRET is required',
        'environment: OS_APPLICATION_CREDENTIAL_ID or OS_APPLICATION_CREDENTIAL_NAME is required',
      ].join('\n'),
    },
    {
      name: 'an application credential name without its user',
      input: {
        env: { OS_AUTH_URL: 'https://k', OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_NAME: 'x', OS_APPLICATION_CREDENTIAL_SECRET: APP_SECRET },
      },
      message: 'environment: OS_USERNAME or OS_USER_ID is required with OS_APPLICATION_CREDENTIAL_NAME',
    },
    {
      name: 'an application credential name with a user but no user domain',
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, {
          c: { auth_type: 'v3applicationcredential', auth: { auth_url: 'https://k', application_credential_name: 'x', application_credential_secret: APP_SECRET, username: 'admin' } },
        })],
      },
      message: `${HOME_CLOUDS}: clouds.c.auth.user_domain_name or user_domain_id is required with username`,
    },
    {
      name: 'a system scope together with a project',
      input: { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, system_scope: 'all' } } })] },
      message: `${HOME_CLOUDS}: clouds.c.auth.system_scope and project_name cannot both be set (a token has one scope)`,
    },
    {
      name: 'a system scope other than all',
      input: { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { auth: { auth_url: 'https://k', user_id: 'u', password: PASSWORD, system_scope: 'compute' } } })] },
      message: `${HOME_CLOUDS}: clouds.c.auth.system_scope: "compute" must be all (the only system scope Keystone has)`,
    },
    {
      name: 'values of the wrong type, rendering non-secret ones only',
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { ...MYCLOUD, auth: { ...MYCLOUD.auth, password: 123456, project_name: 42 }, interface: 'private', verify: 'maybe' } })],
      },
      message: [
        `${HOME_CLOUDS}: clouds.c.auth.password: a number must be a string (quote it in YAML)`,
        `${HOME_CLOUDS}: clouds.c.auth.project_name: a number must be a string (quote it in YAML)`,
        `${HOME_CLOUDS}: clouds.c.interface: "private" must be one of public, internal, admin`,
        `${HOME_CLOUDS}: clouds.c.verify: "maybe" must be true or false (put a CA bundle's path in cacert)`,
      ].join('\n'),
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
      name: 'an auth_url that is not a URL',
      input: { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, auth_url: 'keystone:5000' } } })] },
      message: `${HOME_CLOUDS}: clouds.c.auth.auth_url: "keystone:5000" must be an http or https URL`,
    },
    {
      name: 'an auth_url with a password in it, which is not echoed',
      input: { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, auth_url: `https://u:${PASSWORD}@k/v3` } } })] },
      message: `${HOME_CLOUDS}: clouds.c.auth.auth_url: must not contain a user name or password`,
    },
    {
      name: 'Keystone v2',
      input: { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { ...MYCLOUD, identity_api_version: 2 } })] },
      message: `${HOME_CLOUDS}: clouds.c.identity_api_version: a number (2) is not supported (only Keystone v3 is)`,
    },
    {
      name: 'an empty string',
      input: { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, username: '' } } })] },
      message: `${HOME_CLOUDS}: clouds.c.auth.username: must not be empty`,
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
    {
      name: 'an OS_INSECURE that is not a boolean',
      input: { env: { OS_AUTH_URL: 'https://k', OS_USER_ID: 'u', OS_PASSWORD: PASSWORD, OS_PROJECT_ID: 'p', OS_INSECURE: 'sometimes' } },
      message: 'environment: OS_INSECURE: "sometimes" must be true or false',
    },
  ];
  for (const { name, input, message } of invalid) {
    it(`refuses ${name}`, () => {
      assert.equal(messageOf(input), message);
    });
  }

  it('never puts a password or application credential secret into a message', () => {
    const secretShapes: Input[] = [
      { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { auth: { password: PASSWORD, application_credential_secret: APP_SECRET } } })] },
      { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: MYCLOUD }), clouds(HOME_SECURE, { c: PASSWORD })] },
      { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: MYCLOUD }), clouds(HOME_SECURE, { c: { auth: PASSWORD } })] },
      { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: MYCLOUD }), { path: HOME_SECURE, value: { clouds: PASSWORD } }] },
      { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: MYCLOUD }), { path: HOME_SECURE, value: PASSWORD }] },
      { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, password: { value: PASSWORD } } } })] },
      {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { auth_type: 'v3applicationcredential', auth: { auth_url: 'https://k', application_credential_secret: [APP_SECRET] } } })],
      },
      { env: { OS_AUTH_URL: 'nope', OS_AUTH_TYPE: 'token', OS_PASSWORD: PASSWORD, OS_APPLICATION_CREDENTIAL_SECRET: APP_SECRET } },
      { env: { OS_AUTH_URL: `https://admin:${PASSWORD}@k/v3`, OS_PASSWORD: PASSWORD } },
    ];
    const messages = secretShapes.map(messageOf);
    assert.equal(messages.length, secretShapes.length);
    for (const message of messages) {
      assert.ok(!message.includes(PASSWORD) && !message.includes(APP_SECRET), message);
      assert.ok(!message.includes('S3CRET'), message);
    }
  });
});

describe('loadCloudCredentials', () => {
  async function makeHome(): Promise<string> {
    const home = await mkdtemp(join(tmpdir(), 'ee-clouds-'));
    await mkdir(join(home, '.config', 'openstack'), { recursive: true });
    return home;
  }

  const CLOUDS_YAML = `
clouds:
  lab:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: admin
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
`;

  it('reads ~/.config/openstack/clouds.yaml and merges secure.yaml from the same directory', async () => {
    const home = await makeHome();
    await writeFile(join(home, '.config/openstack/clouds.yaml'), CLOUDS_YAML);
    await writeFile(join(home, '.config/openstack/secure.yaml'), `clouds:\n  lab:\n    auth:\n      password: "${PASSWORD}"\n`);
    const credentials = await loadCloudCredentials({ ...OPENSTACK, cloud: 'lab' }, {}, home);
    assert.deepEqual(credentials, {
      source: {
        kind: 'clouds-file',
        cloud: 'lab',
        path: join(home, '.config/openstack/clouds.yaml'),
        securePath: join(home, '.config/openstack/secure.yaml'),
      },
      authUrl: 'http://127.0.0.1:5000/v3',
      auth: {
        type: 'password',
        user: { name: 'admin', domain: { name: 'Default' } },
        password: PASSWORD,
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
      regionName: 'RegionOne',
      interface: 'internal',
      verify: true,
      cacert: undefined,
      origins: {
        auth_url: `${join(home, '.config/openstack/clouds.yaml')}: clouds.lab.auth.auth_url`,
        auth_type: 'default',
        password: `${join(home, '.config/openstack/secure.yaml')}: clouds.lab.auth.password`,
        username: `${join(home, '.config/openstack/clouds.yaml')}: clouds.lab.auth.username`,
        user_domain_name: `${join(home, '.config/openstack/clouds.yaml')}: clouds.lab.auth.user_domain_name`,
        project_name: `${join(home, '.config/openstack/clouds.yaml')}: clouds.lab.auth.project_name`,
        project_domain_name: `${join(home, '.config/openstack/clouds.yaml')}: clouds.lab.auth.project_domain_name`,
        region_name: `${join(home, '.config/openstack/clouds.yaml')}: clouds.lab.region_name`,
        interface: `${join(home, '.config/openstack/clouds.yaml')}: clouds.lab.interface`,
        verify: 'default',
      },
    });
  });

  it('prefers OS_CLIENT_CONFIG_FILE and never reads the broken file further down the search', async () => {
    const home = await makeHome();
    await writeFile(join(home, '.config/openstack/clouds.yaml'), 'clouds: [broken\n');
    const override = join(home, 'override.yaml');
    await writeFile(override, CLOUDS_YAML.replace('RegionOne', 'FromOverride'));
    await writeFile(join(home, '.config/openstack/secure.yaml'), `clouds:\n  lab:\n    auth:\n      password: "${PASSWORD}"\n`);
    const credentials = await loadCloudCredentials(OPENSTACK, { OS_CLOUD: 'lab', OS_CLIENT_CONFIG_FILE: override }, home);
    assert.deepEqual([credentials.source, credentials.regionName], [
      { kind: 'clouds-file', cloud: 'lab', path: override, securePath: join(home, '.config/openstack/secure.yaml') },
      'FromOverride',
    ]);
  });

  it('reads openstack.clouds_file instead of searching', async () => {
    const home = await makeHome();
    const file = join(home, 'exporter-clouds.yaml');
    await writeFile(file, CLOUDS_YAML.replace('username: admin', `username: admin\n      password: "${PASSWORD}"`));
    const credentials = await loadCloudCredentials({ ...OPENSTACK, cloud: 'lab', cloudsFile: file }, {}, home);
    assert.deepEqual([credentials.source, credentials.auth.type], [
      { kind: 'clouds-file', cloud: 'lab', path: file, securePath: undefined },
      'password',
    ]);
  });

  it('names an openstack.clouds_file that does not exist', async () => {
    const home = await makeHome();
    const file = join(home, 'missing.yaml');
    await assert.rejects(loadCloudCredentials({ ...OPENSTACK, cloud: 'lab', cloudsFile: file }, {}, home), {
      name: 'ConfigError',
      message: `openstack.clouds_file: ${JSON.stringify(file)} does not exist`,
    });
  });

  it('names a file that exists but cannot be read', async () => {
    const home = await makeHome();
    await mkdir(join(home, '.config/openstack/clouds.yaml'));
    await assert.rejects(loadCloudCredentials({ ...OPENSTACK, cloud: 'lab' }, {}, home), {
      name: 'ConfigError',
      message: `${join(home, '.config/openstack/clouds.yaml')}: cannot read the file: is a directory`,
    });
  });

  it('reports YAML errors in secure.yaml by line and column without quoting the secret', async () => {
    const home = await makeHome();
    await writeFile(join(home, '.config/openstack/clouds.yaml'), CLOUDS_YAML);
    const secure = join(home, '.config/openstack/secure.yaml');
    await writeFile(secure, `clouds:\n  lab:\n    auth:\n      password: "${PASSWORD}\n`);
    await assert.rejects(loadCloudCredentials({ ...OPENSTACK, cloud: 'lab' }, {}, home), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, `${secure}: line 5, column 1: Missing closing "quote`);
      return true;
    });
  });

  it('reports an unresolved alias without echoing its name', async () => {
    const home = await makeHome();
    await writeFile(join(home, '.config/openstack/clouds.yaml'), CLOUDS_YAML);
    const secure = join(home, '.config/openstack/secure.yaml');
    await writeFile(secure, `clouds:\n  lab:\n    auth:\n      password: *${PASSWORD}\n`);
    await assert.rejects(loadCloudCredentials({ ...OPENSTACK, cloud: 'lab' }, {}, home), {
      name: 'ConfigError',
      message: `${secure}: YAML: Unresolved alias (the anchor must be set before the alias)`,
    });
  });

  it('resolves the OS_* variables without reading any file', async () => {
    const home = await makeHome();
    await writeFile(join(home, '.config/openstack/clouds.yaml'), CLOUDS_YAML);
    const env = {
      OS_AUTH_URL: 'http://127.0.0.1:5000/v3',
      OS_AUTH_TYPE: 'v3applicationcredential',
      OS_APPLICATION_CREDENTIAL_ID: 'ac-7',
      OS_APPLICATION_CREDENTIAL_SECRET: APP_SECRET,
    };
    const credentials = await loadCloudCredentials(OPENSTACK, env, home);
    assert.deepEqual([credentials.source, credentials.auth], [
      { kind: 'environment' },
      { type: 'v3applicationcredential', credential: { id: 'ac-7' }, secret: APP_SECRET },
    ]);
  });
});

/**
 * Cloud selection (openstack.cloud, OS_CLOUD, the OS_* variables) and the whole path from files on disk to
 * credentials. The rules of each step have their own tests: clouds-search, clouds-merge, os-environment,
 * cloud-validation, cloud-auth.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import {
  APP_SECRET,
  HOME_CLOUDS,
  HOME_SECURE,
  MYCLOUD,
  OPENSTACK,
  PASSWORD,
  clouds,
  messageOf,
  resolve,
} from '../support/clouds-inputs.ts';
import type { Input } from '../support/clouds-inputs.ts';
import { loadCredentials } from '../support/openstack-lab.ts';

describe('resolveCloudCredentials', () => {
  it('selects the cloud named by OS_CLOUD', () => {
    const credentials = resolve({
      env: { OS_CLOUD: 'second' },
      files: [
        clouds(HOME_CLOUDS, { first: { ...MYCLOUD, region_name: 'One' }, second: { ...MYCLOUD, region_name: 'Two' } }),
      ],
    });
    assert.deepEqual(
      [credentials.source, credentials.regionName],
      [{ kind: 'clouds-file', cloud: 'second', path: HOME_CLOUDS, securePath: undefined }, 'Two'],
    );
  });

  it('prefers openstack.cloud over OS_CLOUD, and a named cloud over the OS_* variables', () => {
    const credentials = resolve({
      openstack: { cloud: 'first' },
      env: { OS_CLOUD: 'second', OS_AUTH_URL: 'https://other.example.com/v3', OS_USERNAME: 'other' },
      files: [
        clouds(HOME_CLOUDS, { first: { ...MYCLOUD, region_name: 'One' }, second: { ...MYCLOUD, region_name: 'Two' } }),
      ],
    });
    assert.deepEqual([credentials.regionName, credentials.authUrl], ['One', 'https://keystone.example.com:5000/v3']);
  });

  const invalid: { name: string; input: Input; message: string }[] = [
    {
      name: 'an openstack.clouds_file that does not exist',
      input: {
        openstack: { cloud: 'mycloud', cloudsFile: '/opt/clouds.yaml' },
        files: [clouds(HOME_CLOUDS, { mycloud: MYCLOUD })],
      },
      message: 'openstack.clouds_file: "/opt/clouds.yaml" does not exist',
    },
    {
      name: 'no cloud named and no OS_* credentials',
      input: { env: { OS_REGION_NAME: 'RegionOne' }, files: [clouds(HOME_CLOUDS, { a: MYCLOUD, b: MYCLOUD })] },
      message: `openstack: no cloud selected: set openstack.cloud or OS_CLOUD (clouds in ${HOME_CLOUDS}: a, b), or the OS_* variables (OS_AUTH_URL, OS_USERNAME, ...)`,
    },
  ];
  for (const { name, input, message } of invalid) {
    it(`refuses ${name}`, () => {
      assert.equal(messageOf(input), message);
    });
  }

  it('never puts a password or application credential secret into a message', () => {
    const secretShapes: Input[] = [
      {
        openstack: { cloud: 'c' },
        files: [
          clouds(HOME_CLOUDS, { c: { auth: { password: PASSWORD, application_credential_secret: APP_SECRET } } }),
        ],
      },
      { openstack: { cloud: 'c' }, files: [clouds(HOME_CLOUDS, { c: MYCLOUD }), clouds(HOME_SECURE, { c: PASSWORD })] },
      {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: MYCLOUD }), clouds(HOME_SECURE, { c: { auth: PASSWORD } })],
      },
      {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: MYCLOUD }), { path: HOME_SECURE, value: { clouds: PASSWORD } }],
      },
      {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: MYCLOUD }), { path: HOME_SECURE, value: PASSWORD }],
      },
      {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, password: { value: PASSWORD } } } })],
      },
      {
        openstack: { cloud: 'c' },
        files: [
          clouds(HOME_CLOUDS, {
            c: {
              auth_type: 'v3applicationcredential',
              auth: { auth_url: 'https://k', application_credential_secret: [APP_SECRET] },
            },
          }),
        ],
      },
      {
        env: {
          OS_AUTH_URL: 'nope',
          OS_AUTH_TYPE: 'token',
          OS_PASSWORD: PASSWORD,
          OS_APPLICATION_CREDENTIAL_SECRET: APP_SECRET,
        },
      },
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

describe('loadCloudCredentials (with the YAML reader of config/load.ts, as main.ts wires it)', () => {
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
    await writeFile(
      join(home, '.config/openstack/secure.yaml'),
      `clouds:\n  lab:\n    auth:\n      password: "${PASSWORD}"\n`,
    );
    const credentials = await loadCredentials({ ...OPENSTACK, cloud: 'lab' }, {}, home);
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
    await writeFile(
      join(home, '.config/openstack/secure.yaml'),
      `clouds:\n  lab:\n    auth:\n      password: "${PASSWORD}"\n`,
    );
    const credentials = await loadCredentials(OPENSTACK, { OS_CLOUD: 'lab', OS_CLIENT_CONFIG_FILE: override }, home);
    assert.deepEqual(
      [credentials.source, credentials.regionName],
      [
        { kind: 'clouds-file', cloud: 'lab', path: override, securePath: join(home, '.config/openstack/secure.yaml') },
        'FromOverride',
      ],
    );
  });

  it('reads openstack.clouds_file instead of searching', async () => {
    const home = await makeHome();
    const file = join(home, 'exporter-clouds.yaml');
    await writeFile(file, CLOUDS_YAML.replace('username: admin', `username: admin\n      password: "${PASSWORD}"`));
    const credentials = await loadCredentials({ ...OPENSTACK, cloud: 'lab', cloudsFile: file }, {}, home);
    assert.deepEqual(
      [credentials.source, credentials.auth.type],
      [{ kind: 'clouds-file', cloud: 'lab', path: file, securePath: undefined }, 'password'],
    );
  });

  it('names an openstack.clouds_file that does not exist', async () => {
    const home = await makeHome();
    const file = join(home, 'missing.yaml');
    await assert.rejects(loadCredentials({ ...OPENSTACK, cloud: 'lab', cloudsFile: file }, {}, home), {
      name: 'CloudsConfigError',
      message: `openstack.clouds_file: ${JSON.stringify(file)} does not exist`,
    });
  });

  it('names a file that exists but cannot be read', async () => {
    const home = await makeHome();
    await mkdir(join(home, '.config/openstack/clouds.yaml'));
    await assert.rejects(loadCredentials({ ...OPENSTACK, cloud: 'lab' }, {}, home), {
      name: 'ConfigError',
      message: `${join(home, '.config/openstack/clouds.yaml')}: cannot read the file: is a directory`,
    });
  });

  it('reports YAML errors in secure.yaml by line and column without quoting the secret', async () => {
    const home = await makeHome();
    await writeFile(join(home, '.config/openstack/clouds.yaml'), CLOUDS_YAML);
    const secure = join(home, '.config/openstack/secure.yaml');
    await writeFile(secure, `clouds:\n  lab:\n    auth:\n      password: "${PASSWORD}\n`);
    await assert.rejects(loadCredentials({ ...OPENSTACK, cloud: 'lab' }, {}, home), (err: unknown) => {
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
    await assert.rejects(loadCredentials({ ...OPENSTACK, cloud: 'lab' }, {}, home), {
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
    const credentials = await loadCredentials(OPENSTACK, env, home);
    assert.deepEqual(
      [credentials.source, credentials.auth],
      [{ kind: 'environment' }, { type: 'v3applicationcredential', credential: { id: 'ac-7' }, secret: APP_SECRET }],
    );
  });
});

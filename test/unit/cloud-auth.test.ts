/** Who the exporter is to Keystone (a password user or an application credential) and the scope it asks for. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CloudCredentials } from '../../src/openstack/credentials/cloud-credentials.ts';
import { APP_SECRET, HOME_CLOUDS, MYCLOUD, PASSWORD, clouds, messageOf, resolve } from '../support/clouds-inputs.ts';
import type { Input } from '../support/clouds-inputs.ts';

describe('parsePasswordAuth and parseApplicationCredentialAuth (through resolveCloudCredentials)', () => {
  const authCases: {
    name: string;
    auth: Record<string, unknown>;
    top?: Record<string, unknown>;
    expected: CloudCredentials['auth'];
  }[] = [
    {
      name: 'an application credential by id, ignoring project settings it cannot use',
      top: { auth_type: 'v3applicationcredential' },
      auth: { application_credential_id: 'ac-1', application_credential_secret: APP_SECRET, project_name: 'admin' },
      expected: { type: 'v3applicationcredential', credential: { id: 'ac-1' }, secret: APP_SECRET },
    },
    {
      name: 'an application credential by name with its user and domain',
      top: { auth_type: 'v3applicationcredential' },
      auth: {
        application_credential_name: 'oslab-exporter',
        application_credential_secret: APP_SECRET,
        username: 'admin',
        user_domain_id: 'default',
      },
      expected: {
        type: 'v3applicationcredential',
        credential: { name: 'oslab-exporter', user: { name: 'admin', domain: { id: 'default' } } },
        secret: APP_SECRET,
      },
    },
    {
      name: 'an application credential by name with a user id',
      top: { auth_type: 'v3applicationcredential' },
      auth: {
        application_credential_name: 'oslab-exporter',
        application_credential_secret: APP_SECRET,
        user_id: 'u-1',
      },
      expected: {
        type: 'v3applicationcredential',
        credential: { name: 'oslab-exporter', user: { id: 'u-1' } },
        secret: APP_SECRET,
      },
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
      auth: {
        username: 'rita',
        password: PASSWORD,
        project_name: 'alpha',
        domain_name: 'Lab',
        project_domain_id: 'lab-id',
      },
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
      files: [
        clouds(HOME_CLOUDS, {
          c: {
            auth: {
              ...MYCLOUD.auth,
              user_domain_name: undefined,
              project_domain_name: undefined,
              domain_id: 'default',
            },
          },
        }),
      ],
    });
    assert.deepEqual(
      [
        credentials.origins['user_domain_id'],
        credentials.origins['project_domain_id'],
        credentials.origins['domain_id'],
      ],
      [`${HOME_CLOUDS}: clouds.c.auth.domain_id`, `${HOME_CLOUDS}: clouds.c.auth.domain_id`, undefined],
    );
  });

  const invalid: { name: string; input: Input; message: string }[] = [
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
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { auth: { auth_url: 'https://k', password: PASSWORD } } })],
      },
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
        files: [
          clouds(HOME_CLOUDS, {
            c: {
              auth: {
                auth_url: 'https://k',
                application_credential_id: 'ac',
                application_credential_secret: APP_SECRET,
              },
            },
          }),
        ],
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
        env: {
          OS_AUTH_URL: 'https://k',
          OS_AUTH_TYPE: 'v3applicationcredential',
          OS_APPLICATION_CREDENTIAL_NAME: 'x',
          OS_APPLICATION_CREDENTIAL_SECRET: APP_SECRET,
        },
      },
      message: 'environment: OS_USERNAME or OS_USER_ID is required with OS_APPLICATION_CREDENTIAL_NAME',
    },
    {
      name: 'an application credential name with a user but no user domain',
      input: {
        openstack: { cloud: 'c' },
        files: [
          clouds(HOME_CLOUDS, {
            c: {
              auth_type: 'v3applicationcredential',
              auth: {
                auth_url: 'https://k',
                application_credential_name: 'x',
                application_credential_secret: APP_SECRET,
                username: 'admin',
              },
            },
          }),
        ],
      },
      message: `${HOME_CLOUDS}: clouds.c.auth.user_domain_name or user_domain_id is required with username`,
    },
    {
      name: 'a system scope together with a project',
      input: {
        openstack: { cloud: 'c' },
        files: [clouds(HOME_CLOUDS, { c: { auth: { ...MYCLOUD.auth, system_scope: 'all' } } })],
      },
      message: `${HOME_CLOUDS}: clouds.c.auth.system_scope and project_name cannot both be set (a token has one scope)`,
    },
    {
      name: 'a system scope other than all',
      input: {
        openstack: { cloud: 'c' },
        files: [
          clouds(HOME_CLOUDS, {
            c: { auth: { auth_url: 'https://k', user_id: 'u', password: PASSWORD, system_scope: 'compute' } },
          }),
        ],
      },
      message: `${HOME_CLOUDS}: clouds.c.auth.system_scope: "compute" must be all (the only system scope Keystone has)`,
    },
  ];
  for (const { name, input, message } of invalid) {
    it(`refuses ${name}`, () => {
      assert.equal(messageOf(input), message);
    });
  }
});

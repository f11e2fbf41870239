/** A cloud from the plain OS_* variables. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildEnvironmentCloud,
  findVariable,
  hasCredentialVariables,
} from '../../src/openstack/credentials/os-environment.ts';
import { HOME_CLOUDS, MYCLOUD, PASSWORD, clouds, resolve } from '../support/clouds-inputs.ts';

describe('buildEnvironmentCloud', () => {
  it('reads an exported but empty variable as unset', () => {
    assert.deepEqual(
      [findVariable({ OS_CLOUD: '' }, 'OS_CLOUD'), findVariable({ OS_CLOUD: 'lab' }, 'OS_CLOUD')],
      [undefined, 'lab'],
    );
  });

  it('counts only variables about credentials as a request to use the environment', () => {
    assert.deepEqual(
      [
        hasCredentialVariables({ OS_REGION_NAME: 'RegionOne', OS_INTERFACE: 'internal', OS_CLOUD: 'lab' }),
        hasCredentialVariables({ OS_AUTH_TYPE: 'v3applicationcredential' }),
        hasCredentialVariables({ OS_APPLICATION_CREDENTIAL_SECRET: 'x' }),
        hasCredentialVariables({ OS_AUTH_URL: '' }),
      ],
      [false, true, true, false],
    );
  });

  it('names each setting by its variable and reads no verify or regions variable', () => {
    const raw = buildEnvironmentCloud({
      OS_AUTH_URL: 'https://k/v3',
      OS_INSECURE: 'true',
      OS_VERIFY: 'false',
      OS_REGIONS: 'x',
      OS_USERNAME: '',
    });
    assert.deepEqual(
      [
        [...raw.top.keys()],
        [...raw.auth.keys()],
        raw.auth.get('auth_url'),
        raw.nameOf('auth', 'password'),
        raw.shortNameOf('user_id'),
        raw.where,
      ],
      [
        ['insecure'],
        ['auth_url'],
        { value: 'https://k/v3', key: 'auth_url', name: 'OS_AUTH_URL', origin: 'environment' },
        'OS_PASSWORD',
        'OS_USER_ID',
        'environment',
      ],
    );
  });
});

describe('the OS_* variables (through resolveCloudCredentials)', () => {
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

  it('reads OS_INSECURE=true as verify false', () => {
    const credentials = resolve({
      env: {
        OS_AUTH_URL: 'https://k/v3',
        OS_USER_ID: 'u',
        OS_PASSWORD: PASSWORD,
        OS_PROJECT_ID: 'p',
        OS_INSECURE: 'TRUE',
      },
    });
    assert.deepEqual([credentials.verify, credentials.origins['verify']], [false, 'OS_INSECURE']);
  });
});

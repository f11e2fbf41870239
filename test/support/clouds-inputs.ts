/**
 * Inputs for tests of clouds.yaml and OS_* resolution: the search-order paths of a made-up home and working
 * directory, a complete password cloud, and resolve() over parsed files with no disk involved.
 */
import assert from 'node:assert/strict';
import type { CloudCredentials } from '../../src/openstack/credentials/cloud-credentials.ts';
import { resolveCloudCredentials } from '../../src/openstack/credentials/clouds-config.ts';
import type { ParsedCloudFile } from '../../src/openstack/credentials/clouds-search.ts';
import type { Environment } from '../../src/openstack/credentials/os-environment.ts';
import type { OpenStackConfig } from '../../src/config/schema.ts';
import { CloudsConfigError, ConfigError } from '../../src/errors.ts';
import { OPENSTACK_DEFAULTS } from './openstack-lab.ts';

export const HOME = '/home/op';
export const CWD = '/srv/exporter';
export const CWD_CLOUDS = '/srv/exporter/clouds.yaml';
export const HOME_CLOUDS = '/home/op/.config/openstack/clouds.yaml';
export const ETC_CLOUDS = '/etc/openstack/clouds.yaml';
export const HOME_SECURE = '/home/op/.config/openstack/secure.yaml';
export const ETC_SECURE = '/etc/openstack/secure.yaml';

export const PASSWORD = 'hunter2-S3CRET';
export const APP_SECRET = 'appcred-S3CRET';

export const OPENSTACK: OpenStackConfig = OPENSTACK_DEFAULTS;

/** A complete password cloud, as `openstack` CLI users write it. */
export const MYCLOUD = {
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

export interface Input {
  openstack?: Partial<OpenStackConfig>;
  env?: Environment;
  files?: readonly ParsedCloudFile[];
  homeDir?: string;
}

export function resolve(input: Input): CloudCredentials {
  return resolveCloudCredentials({
    openstack: { ...OPENSTACK, ...input.openstack },
    env: input.env ?? {},
    homeDir: input.homeDir ?? HOME,
    cwd: CWD,
    files: input.files ?? [],
  });
}

export function clouds(path: string, entries: Record<string, unknown>): ParsedCloudFile {
  return { path, value: { clouds: entries } };
}

/** The CloudsConfigError message resolve throws, or a failure when it resolves. */
export function messageOf(input: Input): string {
  try {
    resolve(input);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.ok(err instanceof CloudsConfigError, `expected a CloudsConfigError, got ${err.name}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.message;
  }
  assert.fail('expected a CloudsConfigError');
}

/** Turns a cloud's raw settings into CloudCredentials, or one CloudsConfigError listing every problem. */
import { join } from 'node:path';
import type { OpenStackConfig, OpenStackInterface } from '../../config/schema.ts';
import { CloudsConfigError } from '../../errors.ts';
import { isPlainObject } from '../../validation/describe.ts';
import { parseApplicationCredentialAuth, parsePasswordAuth } from './cloud-auth.ts';
import type { CloudCredentials } from './cloud-credentials.ts';
import { CloudReader, parseBoolean, renderSetting } from './cloud-reader.ts';
import type { RawCloud } from './cloud-settings.ts';

const AUTH_TYPES = ['password', 'v3password', 'v3applicationcredential'] as const;
const INTERFACES: readonly OpenStackInterface[] = ['public', 'internal', 'admin'];

export interface ValidationContext {
  /** Our own `openstack` block: its region_name and interface win over the cloud's. */
  readonly openstack: OpenStackConfig;
  /** For `~/` in cacert. */
  readonly homeDir: string;
}

export function parseCredentials(raw: RawCloud, context: ValidationContext): CloudCredentials {
  const reader = new CloudReader(raw);
  checkIdentityApiVersion(reader);
  const authUrl = parseAuthUrl(reader);
  const authType = parseAuthType(reader);
  const auth =
    authType === undefined
      ? undefined
      : authType === 'v3applicationcredential'
        ? parseApplicationCredentialAuth(reader)
        : parsePasswordAuth(reader);
  const regionName = parseRegionName(reader, context.openstack);
  const iface = parseInterface(reader, context.openstack);
  const verify = parseTlsVerify(reader);
  const cacert = parseCacert(reader, context.homeDir);
  if (reader.problems.length > 0 || authUrl === undefined || !auth || !iface || verify === undefined) {
    throw new CloudsConfigError(raw.where, reader.problems);
  }
  return { source: raw.source, authUrl, auth, regionName, interface: iface, verify, cacert, origins: reader.origins };
}

function checkIdentityApiVersion(reader: CloudReader): void {
  const setting = reader.setting('top', 'identity_api_version');
  if (!setting) return;
  if (setting.value === 3 || setting.value === '3') return;
  reader.reportValue(setting, `${renderSetting(setting)} is not supported (only Keystone v3 is)`);
}

function parseAuthUrl(reader: CloudReader): string | undefined {
  const text = reader.required('auth', 'auth_url');
  if (text === undefined) return undefined;
  const setting = reader.setting('auth', 'auth_url')!;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return reader.reportValue(setting, `${renderSetting(setting)} is not a URL`);
  }
  // Not rendered: a URL with a password in it is the one auth_url that must not be echoed.
  if (url.username !== '' || url.password !== '')
    return reader.reportValue(setting, 'must not contain a user name or password');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return reader.reportValue(setting, `${renderSetting(setting)} must be an http or https URL`);
  }
  return text;
}

function parseAuthType(reader: CloudReader): 'password' | 'v3applicationcredential' | undefined {
  const setting = reader.setting('top', 'auth_type');
  if (!setting) {
    reader.origins['auth_type'] = 'default';
    return 'password';
  }
  if (typeof setting.value !== 'string' || !(AUTH_TYPES as readonly string[]).includes(setting.value)) {
    return reader.reportValue(
      setting,
      `${renderSetting(setting)} is not supported (use password, v3password or v3applicationcredential)`,
    );
  }
  reader.use('auth_type', setting);
  return setting.value === 'v3applicationcredential' ? 'v3applicationcredential' : 'password';
}

function parseRegionName(reader: CloudReader, openstack: OpenStackConfig): string | undefined {
  if (openstack.regionName !== undefined) {
    reader.origins['region_name'] = 'openstack.region_name';
    return openstack.regionName;
  }
  if (reader.has('top', 'region_name')) return reader.text('top', 'region_name');
  const regions = reader.setting('top', 'regions');
  if (!regions) return undefined;
  // openstacksdk takes the first of a cloud's regions when none is named.
  const first: unknown = Array.isArray(regions.value) ? regions.value[0] : undefined;
  const name = isPlainObject(first) ? first['name'] : first;
  if (typeof name !== 'string' || name === '') {
    return reader.reportValue(regions, 'must be a list of region names (or of mappings with a name)');
  }
  reader.origins['region_name'] = `${regions.origin}: ${regions.name}[0]`;
  return name;
}

function parseInterface(reader: CloudReader, openstack: OpenStackConfig): OpenStackInterface | undefined {
  const setting = reader.setting('top', 'interface');
  if (openstack.interface !== undefined) {
    reader.origins['interface'] = 'openstack.interface';
    return openstack.interface;
  }
  if (!setting) {
    reader.origins['interface'] = 'default';
    return 'public';
  }
  // keystoneauth still accepts the Keystone v2 spellings publicURL, internalURL and adminURL.
  const value = typeof setting.value === 'string' ? setting.value.replace(/URL$/, '') : undefined;
  if (value === undefined || !(INTERFACES as readonly string[]).includes(value)) {
    return reader.reportValue(setting, `${renderSetting(setting)} must be one of ${INTERFACES.join(', ')}`);
  }
  reader.use('interface', setting);
  return value as OpenStackInterface;
}

function parseTlsVerify(reader: CloudReader): boolean | undefined {
  if (reader.has('top', 'verify')) {
    const verify = reader.setting('top', 'verify')!;
    if (typeof verify.value === 'string' && parseBoolean(verify.value) === undefined) {
      // requests would take a path here; openstacksdk and we want it in cacert.
      return reader.reportValue(
        verify,
        `${renderSetting(verify)} must be true or false (put a CA bundle's path in cacert)`,
      );
    }
    return reader.boolean('top', 'verify');
  }
  if (reader.has('top', 'insecure')) {
    const insecure = reader.boolean('top', 'insecure');
    if (insecure === undefined) return undefined;
    reader.origins['verify'] = reader.origins['insecure']!;
    delete reader.origins['insecure'];
    return !insecure;
  }
  reader.origins['verify'] = 'default';
  return true;
}

function parseCacert(reader: CloudReader, homeDir: string): string | undefined {
  const path = reader.text('top', 'cacert');
  if (path === undefined) return undefined;
  return path === '~' || path.startsWith('~/') ? join(homeDir, path.slice(1)) : path;
}

/** A cloud's `auth`: password or application credential, and scope; ids win over names, as in keystoneauth. */
import type { ApplicationCredentialAuth, DomainRef, PasswordAuth, TokenScope, UserRef } from './cloud-credentials.ts';
import { renderSetting } from './cloud-reader.ts';
import type { CloudReader } from './cloud-reader.ts';

export function parsePasswordAuth(reader: CloudReader): PasswordAuth | undefined {
  // Without a type, openstacksdk assumes password; say how to use an application credential that is present.
  const hint =
    !reader.has('top', 'auth_type') && reader.has('auth', 'application_credential_secret')
      ? ` (or set ${reader.nameOf('top', 'auth_type')} to v3applicationcredential)`
      : '';
  const password = reader.required('auth', 'password', hint);
  const user = parseUser(reader, '');
  const scope = parseScope(reader);
  if (password === undefined || !user || !scope) return undefined;
  return { type: 'password', user, password, scope };
}

export function parseApplicationCredentialAuth(reader: CloudReader): ApplicationCredentialAuth | undefined {
  const secret = reader.required('auth', 'application_credential_secret');
  const id = reader.text('auth', 'application_credential_id');
  if (id !== undefined)
    return secret === undefined ? undefined : { type: 'v3applicationcredential', credential: { id }, secret };
  if (reader.has('auth', 'application_credential_id')) return undefined;
  const name = reader.text('auth', 'application_credential_name');
  if (name === undefined) {
    if (!reader.has('auth', 'application_credential_name')) {
      reader.report(`${reader.either('auth', 'application_credential_id', 'application_credential_name')} is required`);
    }
    return undefined;
  }
  // A name is unique only per user, so Keystone needs the user that owns the credential.
  const user = parseUser(reader, ` with ${reader.shortName('application_credential_name')}`);
  if (secret === undefined || !user) return undefined;
  return { type: 'v3applicationcredential', credential: { name, user }, secret };
}

function parseUser(reader: CloudReader, requiredWith: string): UserRef | undefined {
  const id = reader.text('auth', 'user_id');
  if (id !== undefined) return { id };
  if (reader.has('auth', 'user_id')) return undefined;
  if (!reader.has('auth', 'username'))
    return reader.report(`${reader.either('auth', 'username', 'user_id')} is required${requiredWith}`);
  const name = reader.text('auth', 'username');
  const domain = parseDomain(reader, 'user', 'username');
  return name === undefined || !domain ? undefined : { name, domain };
}

function parseScope(reader: CloudReader): TokenScope | undefined {
  const system = reader.setting('auth', 'system_scope');
  const projectKeys = ['project_id', 'project_name'].filter((key) => reader.has('auth', key));
  if (system && projectKeys.length > 0) {
    return reader.report(
      `${reader.nameOf('auth', 'system_scope')} and ${reader.shortName(projectKeys[0]!)} cannot both be set (a token has one scope)`,
    );
  }
  if (system) {
    if (system.value !== 'all')
      return reader.reportValue(system, `${renderSetting(system)} must be all (the only system scope Keystone has)`);
    reader.use('system_scope', system);
    return { system: 'all' };
  }
  const id = reader.text('auth', 'project_id');
  if (id !== undefined) return { project: { id } };
  if (reader.has('auth', 'project_id')) return undefined;
  if (!reader.has('auth', 'project_name')) {
    // An unscoped token comes without a service catalog, so the exporter could not find a single endpoint.
    const systemScope = reader.assignment('system_scope', 'all');
    return reader.report(
      `${reader.either('auth', 'project_name', 'project_id')} is required (or ${systemScope} for a system scope)`,
    );
  }
  const name = reader.text('auth', 'project_name');
  const domain = parseDomain(reader, 'project', 'project_name');
  return name === undefined || !domain ? undefined : { project: { name, domain } };
}

function parseDomain(reader: CloudReader, owner: 'user' | 'project', nameKey: string): DomainRef | undefined {
  const [domainIdKey, domainNameKey] = [`${owner}_domain_id`, `${owner}_domain_name`];
  for (const [key, kind] of [
    [domainIdKey, 'id'],
    [domainNameKey, 'name'],
    ['domain_id', 'id'],
    ['domain_name', 'name'],
  ] as const) {
    if (!reader.has('auth', key)) continue;
    const value = reader.text('auth', key);
    if (value === undefined) return undefined;
    if (key === 'domain_id' || key === 'domain_name') {
      // The shorthand stands for both the user's and the project's domain; record it under the key it filled.
      reader.origins[kind === 'id' ? domainIdKey : domainNameKey] = reader.origins[key]!;
      delete reader.origins[key];
    }
    return kind === 'id' ? { id: value } : { name: value };
  }
  return reader.report(
    `${reader.either('auth', domainNameKey, domainIdKey)} is required with ${reader.shortName(nameKey)}`,
  );
}

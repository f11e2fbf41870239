/** A cloud's settings as written, with names and origins: clouds.yaml and OS_* variables both come down to this. */
import type { CredentialSource } from './cloud-credentials.ts';

/** The keys read from a cloud's `auth` mapping; each also has an OS_* variable of the same name. */
export const AUTH_KEYS = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'user_domain_name',
  'user_domain_id',
  'project_name',
  'project_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'system_scope',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
] as const;

export const TOP_KEYS = [
  'auth_type',
  'region_name',
  'regions',
  'interface',
  'verify',
  'insecure',
  'cacert',
  'identity_api_version',
] as const;

export type TopKey = (typeof TOP_KEYS)[number];

export type Section = 'top' | 'auth';

export interface Setting {
  readonly value: unknown;
  readonly key: string;
  /** `clouds.x.auth.password`, or `OS_PASSWORD`. */
  readonly name: string;
  readonly origin: string;
}

export interface RawCloud {
  readonly source: CredentialSource;
  /** The source of the CloudsConfigError: the file of the cloud entry, or `environment`. */
  readonly where: string;
  readonly top: ReadonlyMap<string, Setting>;
  readonly auth: ReadonlyMap<string, Setting>;
  /** How a key that is absent is named in a message: `clouds.x.auth.password`, or `OS_PASSWORD`. */
  readonly nameOf: (section: Section, key: string) => string;
  /** The short form for the second of two alternatives: `user_id`, or `OS_USER_ID`. */
  readonly shortNameOf: (key: string) => string;
}

export function variableOf(key: string): string {
  return `OS_${key.toUpperCase()}`;
}

/** Resolved OpenStack credentials: what clouds.yaml, secure.yaml or the OS_* variables say, checked and typed. */
import type { OpenStackInterface } from '../config/schema.ts';

export type DomainRef = { readonly id: string } | { readonly name: string };
export type UserRef = { readonly id: string } | { readonly name: string; readonly domain: DomainRef };
export type ProjectRef = { readonly id: string } | { readonly name: string; readonly domain: DomainRef };
export type TokenScope = { readonly project: ProjectRef } | { readonly system: 'all' };

export interface PasswordAuth {
  /** `v3password` means the same and is reported as `password`. */
  readonly type: 'password';
  readonly user: UserRef;
  readonly password: string;
  /** A token without a scope has no catalog, so one is always required. */
  readonly scope: TokenScope;
}

export interface ApplicationCredentialAuth {
  readonly type: 'v3applicationcredential';
  /** By id, or by name, which Keystone resolves within the owning user. */
  readonly credential: { readonly id: string } | { readonly name: string; readonly user: UserRef };
  readonly secret: string;
}

export type CloudAuth = PasswordAuth | ApplicationCredentialAuth;

export type CredentialSource =
  | {
      readonly kind: 'clouds-file';
      readonly cloud: string;
      /** The clouds.yaml the entry was found in (the secure.yaml when only it has the entry). */
      readonly path: string;
      readonly securePath: string | undefined;
    }
  | { readonly kind: 'environment' };

export interface CloudCredentials {
  readonly source: CredentialSource;
  /** As written, e.g. `https://keystone.example.com:5000/v3`. */
  readonly authUrl: string;
  readonly auth: CloudAuth;
  readonly regionName: string | undefined;
  readonly interface: OpenStackInterface;
  /** False only when the cloud says `verify: false` or `insecure: true` (OS_INSECURE). */
  readonly verify: boolean;
  /** A CA bundle path (`~/` expanded); the caller reads it. */
  readonly cacert: string | undefined;
  /**
   * For each setting used (snake_case, as in clouds.yaml), where it was read: `file: key path`, an OS_*
   * variable, an `openstack.*` key of our config, or `default`. Never a value, so it can be logged.
   */
  readonly origins: Readonly<Record<string, string>>;
}

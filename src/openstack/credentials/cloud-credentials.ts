/** Resolved OpenStack credentials: what clouds.yaml, secure.yaml or the OS_* variables say, checked and typed. */
import type { OpenStackInterface } from '../../config/schema.ts';

export type DomainRef = { readonly id: string } | { readonly name: string };
export type UserRef = { readonly id: string } | { readonly name: string; readonly domain: DomainRef };
export type ProjectRef = { readonly id: string } | { readonly name: string; readonly domain: DomainRef };
export type TokenScope = { readonly project: ProjectRef } | { readonly system: 'all' };

export interface PasswordAuth {
  /** `v3password` means the same and is reported as `password`. */
  readonly type: 'password';
  readonly user: UserRef;
  readonly password: string;
  readonly scope: TokenScope;
}

export interface ApplicationCredentialAuth {
  readonly type: 'v3applicationcredential';
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
  readonly authUrl: string;
  readonly auth: CloudAuth;
  readonly regionName: string | undefined;
  readonly interface: OpenStackInterface;
  /** False only when the cloud says `verify: false` or `insecure: true` (OS_INSECURE). */
  readonly verify: boolean;
  /** A CA bundle path (`~/` expanded); the caller reads it. */
  readonly cacert: string | undefined;
  /** Where each setting used was read (`file: key path`, OS_*, `openstack.*`, `default`); never a value: loggable. */
  readonly origins: Readonly<Record<string, string>>;
}

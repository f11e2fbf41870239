/** Keystone v3 tokens as data (pure): the request body and URL, and the answer read into a token to renew. */
import { ExporterError } from '../../errors.ts';
import { StrictValidator } from '../../validation/validator.ts';
import type { CloudAuth, UserRef } from '../credentials/cloud-credentials.ts';
import { parseCatalog } from './service-catalog.ts';
import type { CatalogService } from './service-catalog.ts';

/** `value` is a credential: pass it on, never log it. */
export interface KeystoneToken {
  readonly value: string;
  readonly expiresAt: Date;
  readonly catalog: readonly CatalogService[];
}

export interface HeldToken {
  readonly token: KeystoneToken;
  readonly renewAtMs: number;
}

/** Renew 60 s before expiry, or a tenth of the lifetime for short tokens: no request leaves with a dying token. */
const RENEW_MARGIN_MS = 60_000;
const RENEW_MARGIN_SHARE = 0.1;

export function buildTokenRequest(auth: CloudAuth): unknown {
  if (auth.type === 'v3applicationcredential') {
    const credential =
      'id' in auth.credential
        ? { id: auth.credential.id, secret: auth.secret }
        : { name: auth.credential.name, user: buildUser(auth.credential.user), secret: auth.secret };
    // An application credential carries its own project; Keystone refuses a scope next to it.
    return { auth: { identity: { methods: ['application_credential'], application_credential: credential } } };
  }
  const scope =
    'system' in auth.scope
      ? { system: { all: true } }
      : {
          project:
            'id' in auth.scope.project
              ? { id: auth.scope.project.id }
              : { name: auth.scope.project.name, domain: auth.scope.project.domain },
        };
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { ...buildUser(auth.user), password: auth.password } } },
      scope,
    },
  };
}

function buildUser(user: UserRef): Record<string, unknown> {
  return 'id' in user ? { id: user.id } : { name: user.name, domain: user.domain };
}

/** `{auth_url}/v3/auth/tokens`; an auth_url that already ends in /v3 is not given a second one. */
export function buildTokensUrl(authUrl: string): URL {
  const url = new URL(authUrl);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = /\/v3$/.test(path) ? `${path}/auth/tokens` : `${path}/v3/auth/tokens`;
  url.search = '';
  url.hash = '';
  return url;
}

export interface TokenAnswer {
  readonly text: string;
  /** The X-Subject-Token header: the token itself. */
  readonly value: string;
  /** On our clock, when the token was asked for. */
  readonly startedAtMs: number;
  readonly what: string;
}

/** Throws OPENSTACK_AUTH, naming the field, for a body without what a token needs. */
export function parseTokenBody(answer: TokenAnswer): HeldToken {
  const { text, value, startedAtMs, what } = answer;
  const reader = new StrictValidator(
    (path, problem) => new ExporterError('OPENSTACK_AUTH', `${what}: ${path}: ${problem}`),
  );
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ExporterError('OPENSTACK_AUTH', `${what}: the answer is not JSON`);
  }
  const token = reader.record(reader.record(body, 'the answer')['token'], 'token');
  const expiresAtMs = reader.date(token['expires_at'], 'token.expires_at').getTime();
  if (!Array.isArray(token['catalog'])) {
    throw new ExporterError(
      'OPENSTACK_AUTH',
      `${what}: the token has no service catalog (is it scoped to a project or the system?)`,
    );
  }
  const issuedAtMs = typeof token['issued_at'] === 'string' ? Date.parse(token['issued_at']) : Number.NaN;
  // Keystone's lifetime laid onto our clock from when we asked: a skewed local clock then cannot make us keep
  // a token Keystone already considers expired, nor drop a fresh one at once.
  const lifetimeMs = expiresAtMs - (Number.isNaN(issuedAtMs) ? startedAtMs : issuedAtMs);
  if (lifetimeMs <= 0) throw new ExporterError('OPENSTACK_AUTH', `${what}: the token expires before it was issued`);
  const marginMs = Math.min(RENEW_MARGIN_MS, lifetimeMs * RENEW_MARGIN_SHARE);
  return {
    token: { value, expiresAt: new Date(expiresAtMs), catalog: parseCatalog(token['catalog']) },
    renewAtMs: startedAtMs + lifetimeMs - marginMs,
  };
}

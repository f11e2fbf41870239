/**
 * Keystone v3 tokens as data (pure): the request body for a set of credentials, the URL it goes to, and the
 * answer read into a token with its catalog and the moment to renew it.
 */
import { ExporterError } from '../errors.ts';
import { StrictValidator } from '../validation/validator.ts';
import type { CloudAuth, UserRef } from './cloud-credentials.ts';
import { readCatalog } from './service-catalog.ts';
import type { CatalogService } from './service-catalog.ts';

/** An issued token. `value` is a credential: pass it on, never log it. */
export interface KeystoneToken {
  readonly value: string;
  readonly expiresAt: Date;
  readonly catalog: readonly CatalogService[];
}

/** A token and when, on our clock, to issue a new one. */
export interface HeldToken {
  readonly token: KeystoneToken;
  readonly renewAtMs: number;
}

/**
 * A token is renewed 60 s before it expires, or a tenth of its lifetime before for tokens shorter than ten
 * minutes, so a short-lived token is still used for most of its life and no request leaves with one about to die.
 */
const RENEW_MARGIN_MS = 60_000;
const RENEW_MARGIN_SHARE = 0.1;

/** The body of POST /v3/auth/tokens, exactly as Keystone v3 takes it. */
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
  /** The body Keystone sent with the token. */
  readonly text: string;
  /** The X-Subject-Token header: the token itself. */
  readonly value: string;
  /** On our clock, when the token was asked for. */
  readonly startedAtMs: number;
  /** The request, as messages name it (`POST identity /v3/auth/tokens`). */
  readonly what: string;
}

/** Reads a token answer; a body without what a token needs is an OPENSTACK_AUTH error naming the field. */
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
    token: { value, expiresAt: new Date(expiresAtMs), catalog: readCatalog(token['catalog']) },
    renewAtMs: startedAtMs + lifetimeMs - marginMs,
  };
}

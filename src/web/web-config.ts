/** The toolkit's web config (`--web.config.file`), checked from parsed YAML with every problem reported at once. */
import { isAbsolute, resolve } from 'node:path';
import { parseDurationSetting } from '../config/duration.ts';
import { childPath, renderValue } from '../validation/describe.ts';
import { Validator } from '../validation/validator.ts';
import {
  CIPHER_SUITE_NAMES,
  CLIENT_AUTH_TYPES,
  CURVE_NAMES,
  TLS_VERSION_NAMES,
  refuseCipherSuite,
} from './tls-options.ts';
import type { ClientAuthType, CurveName, TlsVersionName } from './tls-options.ts';

export { CLIENT_AUTH_TYPES } from './tls-options.ts';
export type { ClientAuthType } from './tls-options.ts';

/** Where a PEM comes from: a file (path already made absolute) or the text written inline. */
export type PemSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'inline'; readonly text: string };

export interface TlsServerConfig {
  readonly cert: PemSource;
  readonly key: PemSource;
  readonly clientAuthType: ClientAuthType;
  /** client_ca_file or client_ca; without one, a verifying policy checks against the system's trusted roots. */
  readonly clientCa: PemSource | undefined;
  /** undefined: no SAN check; otherwise a client certificate must carry one of these. */
  readonly clientAllowedSans: readonly string[] | undefined;
  readonly minVersion: TlsVersionName;
  readonly maxVersion: TlsVersionName;
  /** Go names, in preference order; empty means the defaults. */
  readonly cipherSuites: readonly string[];
  readonly curvePreferences: readonly CurveName[];
  readonly preferServerCipherSuites: boolean;
}

export interface RateLimit {
  readonly intervalMs: number;
  readonly burst: number;
}

export interface WebConfig {
  /** undefined serves plain HTTP. */
  readonly tls: TlsServerConfig | undefined;
  /** undefined: no limit (no block, or interval 0). */
  readonly rateLimit: RateLimit | undefined;
  readonly http2: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly basicAuthUsers: ReadonlyMap<string, string>;
}

export type WebConfigResult =
  | { readonly ok: true; readonly config: WebConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

const TOP_KEYS = ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit'];
const TLS_KEYS = [
  'cert',
  'key',
  'cert_file',
  'key_file',
  'client_auth_type',
  'client_ca',
  'client_ca_file',
  'client_allowed_sans',
  'min_version',
  'max_version',
  'cipher_suites',
  'prefer_server_cipher_suites',
  'curve_preferences',
];
const HTTP_KEYS = ['http2', 'headers'];
const RATE_LIMIT_KEYS = ['interval', 'burst'];

/** The keys whose presence turns TLS on, as in the toolkit; the others only tune a TLS that is on. */
const TLS_ENABLING_KEYS = ['cert', 'key', 'cert_file', 'key_file', 'client_ca', 'client_ca_file', 'client_auth_type'];

/** The headers the toolkit lets a web config add, with the only values it accepts (none listed: any value). */
export const ALLOWED_HEADERS: Readonly<Record<string, readonly string[] | undefined>> = {
  'Strict-Transport-Security': undefined,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': undefined,
  'Content-Security-Policy': undefined,
};

/** `$2a$`, `$2b$` or `$2y$`, a two-digit cost, then 22 characters of salt and 31 of hash in bcrypt's base64. */
const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const MIN_BCRYPT_COST = 4;
const MAX_BCRYPT_COST = 31;

export function bcryptCost(hash: string): number {
  return Number(BCRYPT_HASH.exec(hash)?.[1]);
}

/** Relative names resolve against `baseDir` (the web config's folder), as in the toolkit; an empty file is valid. */
export function parseWebConfig(raw: unknown, options: { readonly baseDir: string }): WebConfigResult {
  const validator = new Validator();
  const root = raw === null || raw === undefined ? {} : validator.mapping(raw, '(root)', TOP_KEYS);
  if (!root) return { ok: false, problems: validator.problems };
  const tls =
    root['tls_server_config'] === undefined
      ? undefined
      : parseTlsServerConfig(validator, root['tls_server_config'], options.baseDir);
  const http =
    root['http_server_config'] === undefined
      ? {}
      : validator.mapping(root['http_server_config'], 'http_server_config', HTTP_KEYS);
  const http2 = http?.['http2'] === undefined ? true : validator.boolean(http['http2'], 'http_server_config.http2');
  const headers = http?.['headers'] === undefined ? {} : parseHeaders(validator, http['headers']);
  const users =
    root['basic_auth_users'] === undefined
      ? new Map<string, string>()
      : parseBasicAuthUsers(validator, root['basic_auth_users']);
  const rateLimit = root['rate_limit'] === undefined ? undefined : parseRateLimit(validator, root['rate_limit']);
  if (tls && http2 !== false) checkHttp2Ciphers(validator, tls);
  if (validator.problems.length > 0 || tls === null) return { ok: false, problems: validator.problems };
  return {
    ok: true,
    config: { tls, rateLimit, http2: http2 ?? true, headers: headers ?? {}, basicAuthUsers: users ?? new Map() },
  };
}

/** The suites HTTP/2 requires one of (RFC 7540, 9.2.2), as Go's server checks them. */
const HTTP2_REQUIRED_SUITES = ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'];

// With http2 on (the default) Go's server refuses a TLS 1.2 cipher list without HTTP/2's required suite; we serve
// HTTP/1.1 but refuse it alike, so one file behaves the same under node_exporter and here.
function checkHttp2Ciphers(validator: Validator, tls: TlsServerConfig): void {
  if (tls.cipherSuites.length === 0 || tls.minVersion === 'TLS13') return;
  if (tls.cipherSuites.some((name) => HTTP2_REQUIRED_SUITES.includes(name))) return;
  validator.report(
    'tls_server_config.cipher_suites',
    `with http_server_config.http2 on (the default), the list must include ${HTTP2_REQUIRED_SUITES.join(' or ')}, ` +
      'as HTTP/2 requires; add one, or set http2: false',
  );
}

function parseRateLimit(validator: Validator, value: unknown): RateLimit | undefined {
  const block = value === null ? {} : validator.mapping(value, 'rate_limit', RATE_LIMIT_KEYS);
  if (!block) return undefined;
  const intervalMs = parseDurationSetting(validator, block['interval'] ?? '0s', 'rate_limit.interval');
  const burst =
    block['burst'] === undefined
      ? 0
      : validator.integer(block['burst'], 'rate_limit.burst', 0, Number.MAX_SAFE_INTEGER);
  // As in the toolkit, an interval of 0 turns the limiter off, whatever the burst.
  return intervalMs && burst !== undefined ? { intervalMs, burst } : undefined;
}

/** undefined: no TLS; null: problems were reported. */
function parseTlsServerConfig(
  validator: Validator,
  value: unknown,
  baseDir: string,
): TlsServerConfig | undefined | null {
  const tls = value === null ? {} : validator.mapping(value, 'tls_server_config', TLS_KEYS);
  if (!tls) return null;
  const path = (key: string): string => childPath('tls_server_config', key);
  // A key written with no value (null) counts as given, so `cert_file:` left blank is refused, not ignored.
  const given = Object.keys(tls).filter((key) => tls[key] !== undefined && TLS_KEYS.includes(key));
  if (!given.some((key) => TLS_ENABLING_KEYS.includes(key))) {
    if (given.length === 0) return undefined;
    // The toolkit would serve plain HTTP here; refusing says at once that the TLS settings have no certificate.
    validator.report('tls_server_config', `sets ${given.join(', ')} but no cert_file or cert: TLS needs a certificate`);
    return null;
  }

  const cert = parsePemSource(validator, tls, 'cert', 'cert_file', baseDir);
  const key = parsePemSource(validator, tls, 'key', 'key_file', baseDir);
  const clientAuthType = parseClientAuthType(validator, tls['client_auth_type'], path('client_auth_type'));
  const clientCa =
    tls['client_ca'] === undefined && tls['client_ca_file'] === undefined
      ? undefined
      : parsePemSource(validator, tls, 'client_ca', 'client_ca_file', baseDir);
  const clientAllowedSans =
    tls['client_allowed_sans'] === undefined
      ? undefined
      : validator.stringList(tls['client_allowed_sans'], path('client_allowed_sans'));
  if (clientAllowedSans?.length === 0)
    validator.report(path('client_allowed_sans'), 'must list at least one SAN (leave the key out to allow any)');
  const minVersion =
    tls['min_version'] === undefined
      ? 'TLS12'
      : validator.oneOf(tls['min_version'], path('min_version'), TLS_VERSION_NAMES);
  const maxVersion =
    tls['max_version'] === undefined ? 'TLS13' : parseMaxVersion(validator, tls['max_version'], path('max_version'));
  const cipherSuites =
    tls['cipher_suites'] === undefined ? [] : parseCipherSuites(validator, tls['cipher_suites'], path('cipher_suites'));
  const curvePreferences =
    tls['curve_preferences'] === undefined
      ? []
      : parseCurves(validator, tls['curve_preferences'], path('curve_preferences'));
  const preferServerCipherSuites =
    tls['prefer_server_cipher_suites'] === undefined
      ? true
      : validator.boolean(tls['prefer_server_cipher_suites'], path('prefer_server_cipher_suites'));

  if (clientAuthType !== undefined) {
    const caKey = tls['client_ca'] === undefined ? 'client_ca_file' : 'client_ca';
    if ((tls['client_ca'] !== undefined || tls['client_ca_file'] !== undefined) && clientAuthType === 'NoClientCert') {
      validator.report(
        path(caKey),
        `a client CA is set but client_auth_type is ${clientAuthType}, so no client certificate is ever asked for`,
      );
    }
    if (
      clientAllowedSans !== undefined &&
      clientAuthType !== 'RequireAnyClientCert' &&
      clientAuthType !== 'RequireAndVerifyClientCert'
    ) {
      validator.report(
        path('client_allowed_sans'),
        `needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert (it is ${clientAuthType}, which lets a client connect without a certificate)`,
      );
    }
  }
  if (
    minVersion !== undefined &&
    maxVersion !== undefined &&
    TLS_VERSION_NAMES.indexOf(minVersion) > TLS_VERSION_NAMES.indexOf(maxVersion)
  ) {
    validator.report(path('min_version'), `${minVersion} is above max_version ${maxVersion}`);
  }
  if (
    !cert ||
    !key ||
    !clientAuthType ||
    !minVersion ||
    !maxVersion ||
    !cipherSuites ||
    !curvePreferences ||
    preferServerCipherSuites === undefined ||
    ((tls['client_ca'] !== undefined || tls['client_ca_file'] !== undefined) && clientCa === undefined)
  ) {
    return null;
  }
  return {
    cert,
    key,
    clientAuthType,
    clientCa,
    clientAllowedSans,
    minVersion,
    maxVersion,
    cipherSuites,
    curvePreferences,
    preferServerCipherSuites,
  };
}

function parsePemSource(
  validator: Validator,
  tls: Record<string, unknown>,
  inlineKey: string,
  fileKey: string,
  baseDir: string,
): PemSource | undefined {
  const inline = tls[inlineKey];
  const file = tls[fileKey];
  if (inline === undefined && file === undefined) {
    return validator.report('tls_server_config', `missing one of ${inlineKey} or ${fileKey}`);
  }
  if (inline !== undefined && file !== undefined) {
    return validator.report('tls_server_config', `give ${inlineKey} or ${fileKey}, not both`);
  }
  if (file !== undefined) {
    const path = validator.nonEmptyString(file, `tls_server_config.${fileKey}`);
    return path === undefined ? undefined : { kind: 'file', path: isAbsolute(path) ? path : resolve(baseDir, path) };
  }
  // The inline key may be a private key: its type may be named, never its text.
  if (typeof inline !== 'string')
    return validator.report(
      `tls_server_config.${inlineKey}`,
      `must be a PEM string, got ${renderValue(inline, { withValue: false })}`,
    );
  if (inline.trim() === '') return validator.report(`tls_server_config.${inlineKey}`, 'must not be empty');
  return { kind: 'inline', text: inline };
}

function parseClientAuthType(validator: Validator, value: unknown, path: string): ClientAuthType | undefined {
  if (value === undefined) return 'NoClientCert';
  // The toolkit still reads the old name of RequireAnyClientCert; files written for it keep working.
  if (value === 'RequireClientCert') return 'RequireAnyClientCert';
  return validator.oneOf(value, path, CLIENT_AUTH_TYPES);
}

function parseMaxVersion(validator: Validator, value: unknown, path: string): TlsVersionName | undefined {
  const version = validator.oneOf(value, path, TLS_VERSION_NAMES);
  if (version === 'TLS10' || version === 'TLS11') {
    // OpenSSL 3, which Node.js uses, does not negotiate TLS 1.0 or 1.1 at its default security level.
    return validator.report(
      path,
      `${JSON.stringify(version)} cannot be served: Node.js's OpenSSL refuses TLS 1.0 and 1.1; use TLS12 or TLS13`,
    );
  }
  return version;
}

function parseCipherSuites(validator: Validator, value: unknown, path: string): string[] | undefined {
  const names = validator.stringList(value, path);
  if (!names) return undefined;
  let ok = true;
  names.forEach((name, index) => {
    if (CIPHER_SUITE_NAMES.includes(name)) return;
    ok = false;
    validator.report(`${path}[${index}]`, refuseCipherSuite(name));
  });
  return ok ? names : undefined;
}

function parseCurves(validator: Validator, value: unknown, path: string): CurveName[] | undefined {
  const names = validator.stringList(value, path);
  if (!names) return undefined;
  const curves = names.map((name, index) => validator.oneOf(name, `${path}[${index}]`, CURVE_NAMES));
  return curves.every((curve) => curve !== undefined) ? curves : undefined;
}

function parseHeaders(validator: Validator, value: unknown): Record<string, string> | undefined {
  const headers = validator.anyMapping(value, 'http_server_config.headers');
  if (!headers) return undefined;
  const result: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(headers)) {
    const path = childPath('http_server_config.headers', name);
    if (!Object.hasOwn(ALLOWED_HEADERS, name)) {
      validator.report(path, `this header cannot be set (allowed: ${Object.keys(ALLOWED_HEADERS).join(', ')})`);
      continue;
    }
    // YAML reads `X-XSS-Protection: 1` as a number; Go reads it into its string map as "1", and so does this.
    const text =
      typeof headerValue === 'number' || typeof headerValue === 'boolean'
        ? String(headerValue)
        : validator.string(headerValue, path);
    // A blank value leaves the header unset, as the toolkit documents.
    if (text === undefined || text === '') continue;
    const allowed = ALLOWED_HEADERS[name];
    if (allowed && !allowed.includes(text)) {
      validator.report(path, `${JSON.stringify(text)} must be one of ${allowed.join(', ')}`);
      continue;
    }
    result[name] = text;
  }
  return result;
}

function parseBasicAuthUsers(validator: Validator, value: unknown): Map<string, string> | undefined {
  const users = value === null ? {} : validator.anyMapping(value, 'basic_auth_users');
  if (!users) return undefined;
  const result = new Map<string, string>();
  for (const [user, hash] of Object.entries(users)) {
    const path = childPath('basic_auth_users', user);
    if (user === '' || user.includes(':')) {
      validator.report(
        path,
        'a user name must not be empty or contain ":" (basic auth splits user and password at the first ":")',
      );
      continue;
    }
    // Never quote the value: a plain password written here by mistake must not reach a log.
    if (typeof hash !== 'string' || !BCRYPT_HASH.test(hash)) {
      validator.report(
        path,
        'must be a bcrypt hash: $2a$, $2b$ or $2y$, a two-digit cost, $ and 53 more characters (the value is not shown: it may be a password)',
      );
      continue;
    }
    const cost = bcryptCost(hash);
    if (cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
      validator.report(path, `bcrypt cost ${cost} is outside ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}`);
      continue;
    }
    result.set(user, hash);
  }
  return result;
}

/** Go's TLS names as Node.js TLS options, and Go's client-certificate policies as a post-handshake check (pure). */
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { SecureContextOptions } from 'node:tls';

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

export const TLS_VERSION_NAMES = ['TLS10', 'TLS11', 'TLS12', 'TLS13'] as const;
export type TlsVersionName = (typeof TLS_VERSION_NAMES)[number];

const NODE_TLS_VERSIONS: Readonly<Record<TlsVersionName, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

// Go's tls.CipherSuites() (the only ones the toolkit accepts) with OpenSSL's names. TLS 1.3 suites map to null:
// Go always offers all three and lets none be chosen, so they are accepted and change nothing.
const CIPHER_SUITES: Readonly<Record<string, string | null>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
};
export const CIPHER_SUITE_NAMES: readonly string[] = Object.keys(CIPHER_SUITES);

/** Suites Go implements but lists as insecure (tls.InsecureCipherSuites()); the toolkit refuses them. */
const INSECURE_CIPHER_SUITES: readonly string[] = [
  'TLS_RSA_WITH_RC4_128_SHA',
  'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA',
  'TLS_ECDHE_RSA_WITH_RC4_128_SHA',
  'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
];

/** Node.js drops TLS 1.3 when `ciphers` names no TLS 1.3 suite, so these are always appended (always on, as in Go). */
const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

export const CURVE_NAMES = ['CurveP256', 'CurveP384', 'CurveP521', 'X25519'] as const;
export type CurveName = (typeof CURVE_NAMES)[number];

const OPENSSL_CURVES: Readonly<Record<CurveName, string>> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

export function refuseCipherSuite(name: string): string {
  if (INSECURE_CIPHER_SUITES.includes(name)) {
    return `${JSON.stringify(name)} is a cipher suite Go counts as insecure; the exporter toolkit refuses it, and so does this exporter`;
  }
  return `${JSON.stringify(name)} is not a cipher suite name Go offers; use one of ${CIPHER_SUITE_NAMES.join(', ')}`;
}

export interface TlsSettings {
  readonly clientAuthType?: ClientAuthType | undefined;
  readonly minVersion: TlsVersionName;
  readonly maxVersion: TlsVersionName;
  readonly cipherSuites: readonly string[];
  readonly curvePreferences: readonly CurveName[];
  readonly preferServerCipherSuites: boolean;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly clientCa: string | undefined;
}

export function buildSecureContextOptions(settings: TlsSettings, material: TlsMaterial): SecureContextOptions {
  const options: SecureContextOptions = {
    cert: material.cert,
    key: material.key,
    minVersion: NODE_TLS_VERSIONS[settings.minVersion],
    maxVersion: NODE_TLS_VERSIONS[settings.maxVersion],
    honorCipherOrder: settings.preferServerCipherSuites,
    ...buildClientCaOption(settings, material),
  };
  const ciphers = settings.cipherSuites.map((name) => CIPHER_SUITES[name]).filter((name) => typeof name === 'string');
  if (settings.cipherSuites.length > 0) {
    // Only TLS 1.3 suites listed leaves TLS 1.2 without ciphers; Node.js then raises the floor to TLS 1.3, as Go's handshake would.
    options.ciphers = [...ciphers, TLS13_SUITES].join(':');
  }
  if (settings.curvePreferences.length > 0)
    options.ecdhCurve = settings.curvePreferences.map((curve) => OPENSSL_CURVES[curve]).join(':');
  return options;
}

/** Without a client CA, Go verifies client certificates against the system's trusted roots; so does this. */
function buildClientCaOption(settings: TlsSettings, material: TlsMaterial): Pick<SecureContextOptions, 'ca'> {
  if (material.clientCa !== undefined) return { ca: material.clientCa };
  const verifies =
    settings.clientAuthType === 'VerifyClientCertIfGiven' || settings.clientAuthType === 'RequireAndVerifyClientCert';
  return verifies ? { ca: [...rootCertificates] } : {};
}

export function requestsClientCertificate(policy: ClientAuthType): boolean {
  return policy !== 'NoClientCert';
}

export interface PeerCertificate {
  readonly present: boolean;
  /** Only meaningful when present. */
  readonly verified: boolean;
  readonly verifyError: string | undefined;
  readonly sans: readonly string[];
}

// Why this client is refused, or undefined. The handshake never rejects (Node.js fixes policies per server, and
// these change on reload), so every policy is decided here, as crypto/tls decides them for the toolkit.
export function checkClientCertificate(
  policy: {
    readonly clientAuthType: ClientAuthType;
    readonly clientAllowedSans: readonly string[] | undefined;
    readonly clientCa?: { readonly kind: 'file' | 'inline' } | undefined;
  },
  peer: PeerCertificate,
): string | undefined {
  const { clientAuthType } = policy;
  const mustBePresent = clientAuthType === 'RequireAnyClientCert' || clientAuthType === 'RequireAndVerifyClientCert';
  const mustVerify = clientAuthType === 'VerifyClientCertIfGiven' || clientAuthType === 'RequireAndVerifyClientCert';
  if (mustBePresent && !peer.present) return `${clientAuthType} requires a client certificate and the client sent none`;
  if (mustVerify && peer.present && !peer.verified) {
    const against =
      policy.clientCa === undefined
        ? "the system's trusted roots"
        : policy.clientCa.kind === 'file'
          ? 'client_ca_file'
          : 'client_ca';
    return `the client certificate does not verify against ${against} (${peer.verifyError ?? 'unknown error'})`;
  }
  if (policy.clientAllowedSans !== undefined) {
    const allowed = policy.clientAllowedSans.map(canonicalSan);
    if (!peer.sans.some((san) => allowed.includes(canonicalSan(san)))) {
      return `the client certificate has none of the client_allowed_sans (it has ${peer.sans.join(', ') || 'no SAN'})`;
    }
  }
  return undefined;
}

/** IP addresses compare by value (`::1` and `0:0:0:0:0:0:0:1` are one address); names compare exactly, as in Go. */
function canonicalSan(san: string): string {
  if (isIP(san) === 6) return new URL(`http://[${san}]/`).hostname;
  return san;
}

const SAN_KINDS = new Set(['DNS', 'IP Address', 'email', 'URI']);

/** Reads Node.js's subjectAltName text (`DNS:a, IP Address:127.0.0.1`); a value with a comma or quote is JSON. */
export function parseSubjectAltNames(text: string | undefined): string[] {
  const values: string[] = [];
  let rest = text ?? '';
  while (rest !== '') {
    const colon = rest.indexOf(':');
    if (colon < 0) break;
    const kind = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    let value: string;
    if (rest.startsWith('"')) {
      let end = 1;
      while (end < rest.length && rest[end] !== '"') end += rest[end] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(rest.slice(0, end + 1)) as string;
      } catch {
        value = rest.slice(1, end);
      }
      rest = rest.slice(end + 1);
    } else {
      const comma = rest.indexOf(', ');
      value = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? '' : rest.slice(comma);
    }
    if (rest.startsWith(', ')) rest = rest.slice(2);
    if (SAN_KINDS.has(kind)) values.push(value);
  }
  return values;
}

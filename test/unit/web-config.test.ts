import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseWebConfig } from '../../src/web/web-config.ts';

const BASE_DIR = '/etc/exposure-exporter';
const HASH = '$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG';
const TLS = 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n';

function problemsOf(yaml: string): readonly string[] {
  const result = parseWebConfig(parse(yaml), { baseDir: BASE_DIR });
  assert.equal(result.ok, false, 'the file is refused');
  return result.ok ? [] : result.problems;
}

function configOf(yaml: string) {
  const result = parseWebConfig(parse(yaml), { baseDir: BASE_DIR });
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  return result.config;
}

/** Each invalid web config and the exact problems it must produce. */
const INVALID: readonly { name: string; yaml: string; problems: readonly string[] }[] = [
  {
    name: 'junk instead of a mapping',
    yaml: 'just some words\n',
    problems: ['(root): must be a mapping, got a string ("just some words")'],
  },
  {
    name: 'an unknown top-level key',
    yaml: 'tls_config: {}\n',
    problems: [
      'tls_config: unknown key (expected one of tls_server_config, http_server_config, basic_auth_users, rate_limit)',
    ],
  },
  {
    name: 'an unknown key under tls_server_config',
    yaml: `${TLS}  client_auth: RequireAnyClientCert\n`,
    problems: [
      'tls_server_config.client_auth: unknown key (expected one of cert, key, cert_file, key_file, client_auth_type, client_ca, client_ca_file, client_allowed_sans, min_version, max_version, cipher_suites, prefer_server_cipher_suites, curve_preferences)',
    ],
  },
  {
    name: 'an unknown key under http_server_config',
    yaml: 'http_server_config:\n  http3: true\n',
    problems: ['http_server_config.http3: unknown key (expected one of http2, headers)'],
  },
  {
    name: 'a certificate without a key',
    yaml: 'tls_server_config:\n  cert_file: server.crt\n',
    problems: ['tls_server_config: missing one of key or key_file'],
  },
  {
    name: 'a key without a certificate',
    yaml: 'tls_server_config:\n  key_file: server.key\n',
    problems: ['tls_server_config: missing one of cert or cert_file'],
  },
  {
    name: 'an empty cert_file',
    yaml: 'tls_server_config:\n  cert_file: ""\n  key_file: server.key\n',
    problems: ['tls_server_config.cert_file: must not be empty'],
  },
  {
    name: 'certificate and key keys left blank',
    yaml: 'tls_server_config:\n  cert_file:\n  key_file:\n',
    problems: [
      'tls_server_config.cert_file: must be a string, got null',
      'tls_server_config.key_file: must be a string, got null',
    ],
  },
  {
    name: 'an empty inline key',
    yaml: 'tls_server_config:\n  cert_file: server.crt\n  key: "  "\n',
    problems: ['tls_server_config.key: must not be empty'],
  },
  {
    name: 'an inline key that is not text, without quoting it',
    yaml: 'tls_server_config:\n  cert_file: server.crt\n  key: 12345\n',
    problems: ['tls_server_config.key: must be a PEM string, got a number'],
  },
  {
    name: 'both a certificate file and an inline certificate',
    yaml: `${TLS}  cert: "-----BEGIN CERTIFICATE-----"\n`,
    problems: ['tls_server_config: give cert or cert_file, not both'],
  },
  {
    name: 'TLS settings without any certificate',
    yaml: 'tls_server_config:\n  min_version: TLS13\n',
    problems: ['tls_server_config: sets min_version but no cert_file or cert: TLS needs a certificate'],
  },
  {
    name: 'an unknown client_auth_type',
    yaml: `${TLS}  client_auth_type: VerifyAlways\n`,
    problems: [
      'tls_server_config.client_auth_type: "VerifyAlways" must be one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert',
    ],
  },
  {
    name: 'a client CA without a client auth policy',
    yaml: `${TLS}  client_ca_file: ca.crt\n`,
    problems: [
      'tls_server_config.client_ca_file: a client CA is set but client_auth_type is NoClientCert, so no client certificate is ever asked for',
    ],
  },
  {
    name: 'an inline client CA without a client auth policy',
    yaml: `${TLS}  client_ca: "-----BEGIN CERTIFICATE-----"\n`,
    problems: [
      'tls_server_config.client_ca: a client CA is set but client_auth_type is NoClientCert, so no client certificate is ever asked for',
    ],
  },
  {
    name: 'both client_ca and client_ca_file',
    yaml: `${TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca: "-----BEGIN CERTIFICATE-----"\n  client_ca_file: ca.crt\n`,
    problems: ['tls_server_config: give client_ca or client_ca_file, not both'],
  },
  {
    name: 'an empty inline client CA',
    yaml: `${TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca: ""\n`,
    problems: ['tls_server_config.client_ca: must not be empty'],
  },
  {
    name: 'a TLS 1.2 cipher list without the suite HTTP/2 requires, with http2 on',
    yaml: `${TLS}  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA]\n  max_version: TLS12\n`,
    problems: [
      'tls_server_config.cipher_suites: with http_server_config.http2 on (the default), the list must include TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, as HTTP/2 requires; add one, or set http2: false',
    ],
  },
  {
    name: 'an unknown key under rate_limit',
    yaml: 'rate_limit:\n  interval: 1s\n  rate: 5\n',
    problems: ['rate_limit.rate: unknown key (expected one of interval, burst)'],
  },
  {
    name: 'a rate_limit interval that is not a duration',
    yaml: 'rate_limit:\n  interval: fast\n  burst: 5\n',
    problems: ['rate_limit.interval: "fast" is not a valid duration (use Prometheus syntax such as 30s, 10m, 1h)'],
  },
  {
    name: 'a negative rate_limit burst',
    yaml: 'rate_limit:\n  interval: 1s\n  burst: -1\n',
    problems: ['rate_limit.burst: a number (-1) must be an integer from 0 to 9007199254740991'],
  },
  {
    name: 'allowed SANs with a policy that lets clients skip the certificate',
    yaml: `${TLS}  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n  client_allowed_sans: [prometheus.example]\n`,
    problems: [
      'tls_server_config.client_allowed_sans: needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert (it is VerifyClientCertIfGiven, which lets a client connect without a certificate)',
    ],
  },
  {
    name: 'an empty list of allowed SANs',
    yaml: `${TLS}  client_auth_type: RequireAnyClientCert\n  client_allowed_sans: []\n`,
    problems: ['tls_server_config.client_allowed_sans: must list at least one SAN (leave the key out to allow any)'],
  },
  {
    name: 'an unknown TLS version',
    yaml: `${TLS}  min_version: TLS14\n`,
    problems: ['tls_server_config.min_version: "TLS14" must be one of TLS10, TLS11, TLS12, TLS13'],
  },
  {
    name: 'a TLS version written the OpenSSL way',
    yaml: `${TLS}  max_version: TLSv1.3\n`,
    problems: ['tls_server_config.max_version: "TLSv1.3" must be one of TLS10, TLS11, TLS12, TLS13'],
  },
  {
    name: 'a maximum version Node.js cannot serve',
    yaml: `${TLS}  min_version: TLS10\n  max_version: TLS11\n`,
    problems: [
      'tls_server_config.max_version: "TLS11" cannot be served: Node.js\'s OpenSSL refuses TLS 1.0 and 1.1; use TLS12 or TLS13',
    ],
  },
  {
    name: 'a minimum version above the maximum',
    yaml: `${TLS}  min_version: TLS13\n  max_version: TLS12\n`,
    problems: ['tls_server_config.min_version: TLS13 is above max_version TLS12'],
  },
  {
    name: 'an invented cipher suite',
    yaml: `${TLS}  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_MADE_UP_SHA1]\n`,
    problems: [
      'tls_server_config.cipher_suites[1]: "TLS_MADE_UP_SHA1" is not a cipher suite name Go offers; use one of TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA, TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256',
    ],
  },
  {
    name: 'a cipher suite Go counts as insecure',
    yaml: `${TLS}  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n`,
    problems: [
      'tls_server_config.cipher_suites[0]: "TLS_RSA_WITH_RC4_128_SHA" is a cipher suite Go counts as insecure; the exporter toolkit refuses it, and so does this exporter',
    ],
  },
  {
    name: 'an OpenSSL cipher name instead of the IANA one',
    yaml: `${TLS}  cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256]\n`,
    problems: [
      'tls_server_config.cipher_suites[0]: "ECDHE-RSA-AES128-GCM-SHA256" is not a cipher suite name Go offers; use one of TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA, TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256',
    ],
  },
  {
    name: 'an invented curve',
    yaml: `${TLS}  curve_preferences: [CurveP257]\n`,
    problems: [
      'tls_server_config.curve_preferences[0]: "CurveP257" must be one of CurveP256, CurveP384, CurveP521, X25519',
    ],
  },
  {
    name: 'cipher_suites as a single string',
    yaml: `${TLS}  cipher_suites: TLS_AES_128_GCM_SHA256\n`,
    problems: ['tls_server_config.cipher_suites: must be a list of strings, got a string ("TLS_AES_128_GCM_SHA256")'],
  },
  {
    name: 'prefer_server_cipher_suites that is not a boolean',
    yaml: `${TLS}  prefer_server_cipher_suites: "yes"\n`,
    problems: ['tls_server_config.prefer_server_cipher_suites: "yes" must be true or false'],
  },
  {
    name: 'http2 that is not a boolean',
    yaml: 'http_server_config:\n  http2: 1\n',
    problems: ['http_server_config.http2: a number (1) must be true or false'],
  },
  {
    name: 'a header the toolkit does not allow',
    yaml: 'http_server_config:\n  headers:\n    Access-Control-Allow-Origin: "*"\n',
    problems: [
      'http_server_config.headers.Access-Control-Allow-Origin: this header cannot be set (allowed: Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy)',
    ],
  },
  {
    name: 'an X-Frame-Options value the toolkit does not allow',
    yaml: 'http_server_config:\n  headers:\n    X-Frame-Options: allow-from https://example.com\n',
    problems: [
      'http_server_config.headers.X-Frame-Options: "allow-from https://example.com" must be one of deny, sameorigin',
    ],
  },
  {
    name: 'an X-Content-Type-Options value the toolkit does not allow',
    yaml: 'http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n',
    problems: ['http_server_config.headers.X-Content-Type-Options: "sniff" must be one of nosniff'],
  },
  {
    name: 'a plain password instead of a bcrypt hash, without quoting it',
    yaml: 'basic_auth_users:\n  alice: hunter2\n',
    problems: [
      'basic_auth_users.alice: must be a bcrypt hash: $2a$, $2b$ or $2y$, a two-digit cost, $ and 53 more characters (the value is not shown: it may be a password)',
    ],
  },
  {
    name: 'a hash of another scheme ($2x$)',
    yaml: `basic_auth_users:\n  alice: '${HASH.replace('$2y$', '$2x$')}'\n`,
    problems: [
      'basic_auth_users.alice: must be a bcrypt hash: $2a$, $2b$ or $2y$, a two-digit cost, $ and 53 more characters (the value is not shown: it may be a password)',
    ],
  },
  {
    name: 'a bcrypt cost out of range',
    yaml: `basic_auth_users:\n  alice: '${HASH.replace('$10$', '$32$')}'\n`,
    problems: ['basic_auth_users.alice: bcrypt cost 32 is outside 4 to 31'],
  },
  {
    name: 'a user name with a colon',
    yaml: `basic_auth_users:\n  "ali:ce": '${HASH}'\n`,
    problems: [
      'basic_auth_users["ali:ce"]: a user name must not be empty or contain ":" (basic auth splits user and password at the first ":")',
    ],
  },
  {
    name: 'basic_auth_users as a list',
    yaml: `basic_auth_users:\n  - alice\n`,
    problems: ['basic_auth_users: must be a mapping, got a list'],
  },
];

describe('parseWebConfig', () => {
  for (const { name, yaml, problems } of INVALID) {
    it(`refuses ${name}`, () => {
      assert.deepEqual(problemsOf(yaml), problems);
    });
  }

  it('has at least twenty pinned refusals', () => {
    assert.ok(INVALID.length >= 20, `${INVALID.length} cases`);
  });

  it('reports every problem of one file in one run', () => {
    const yaml = `${TLS}  min_version: TLS9\n  curve_preferences: [P-256]\nbasic_auth_users:\n  bob: plain\nextra: 1\n`;
    assert.deepEqual(problemsOf(yaml), [
      'extra: unknown key (expected one of tls_server_config, http_server_config, basic_auth_users, rate_limit)',
      'tls_server_config.min_version: "TLS9" must be one of TLS10, TLS11, TLS12, TLS13',
      'tls_server_config.curve_preferences[0]: "P-256" must be one of CurveP256, CurveP384, CurveP521, X25519',
      'basic_auth_users.bob: must be a bcrypt hash: $2a$, $2b$ or $2y$, a two-digit cost, $ and 53 more characters (the value is not shown: it may be a password)',
    ]);
  });

  it('reads an empty file as plain HTTP without auth', () => {
    assert.deepEqual(configOf(''), {
      tls: undefined,
      rateLimit: undefined,
      http2: true,
      headers: {},
      basicAuthUsers: new Map(),
    });
  });

  it('fills in the toolkit defaults and makes relative paths relative to the web config folder', () => {
    assert.deepEqual(configOf(`${TLS}`).tls, {
      cert: { kind: 'file', path: '/etc/exposure-exporter/server.crt' },
      key: { kind: 'file', path: '/etc/exposure-exporter/server.key' },
      clientAuthType: 'NoClientCert',
      clientCa: undefined,
      clientAllowedSans: undefined,
      minVersion: 'TLS12',
      maxVersion: 'TLS13',
      cipherSuites: [],
      curvePreferences: [],
      preferServerCipherSuites: true,
    });
  });

  it('reads a full node_exporter-style file', () => {
    const config = configOf(
      [
        'tls_server_config:',
        '  cert_file: /etc/ssl/exporter.crt',
        '  key: |',
        '    -----BEGIN PRIVATE KEY-----',
        '    MIIB',
        '    -----END PRIVATE KEY-----',
        '  client_auth_type: RequireAndVerifyClientCert',
        '  client_ca_file: ../ca/clients.pem',
        '  client_allowed_sans: [prometheus.example, 10.0.0.5]',
        '  min_version: TLS13',
        '  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]',
        '  curve_preferences: [X25519, CurveP256]',
        '  prefer_server_cipher_suites: false',
        'http_server_config:',
        '  http2: false',
        '  headers:',
        '    X-Frame-Options: deny',
        '    X-Content-Type-Options: nosniff',
        '    Content-Security-Policy: ""',
        '    Strict-Transport-Security: max-age=31536000',
        'basic_auth_users:',
        `  prometheus: '${HASH}'`,
        `  grafana: '${HASH.replace('$2y$', '$2b$')}'`,
        '',
      ].join('\n'),
    );
    assert.deepEqual(config, {
      tls: {
        cert: { kind: 'file', path: '/etc/ssl/exporter.crt' },
        key: { kind: 'inline', text: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n' },
        clientAuthType: 'RequireAndVerifyClientCert',
        clientCa: { kind: 'file', path: '/etc/ca/clients.pem' },
        clientAllowedSans: ['prometheus.example', '10.0.0.5'],
        minVersion: 'TLS13',
        maxVersion: 'TLS13',
        cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
        curvePreferences: ['X25519', 'CurveP256'],
        preferServerCipherSuites: false,
      },
      rateLimit: undefined,
      http2: false,
      // A blank value leaves its header unset.
      headers: {
        'X-Frame-Options': 'deny',
        'X-Content-Type-Options': 'nosniff',
        'Strict-Transport-Security': 'max-age=31536000',
      },
      basicAuthUsers: new Map([
        ['prometheus', HASH],
        ['grafana', HASH.replace('$2y$', '$2b$')],
      ]),
    });
  });

  it('accepts a verifying policy without a client CA, as the toolkit does: the system roots verify', () => {
    for (const type of ['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert']) {
      const tls = configOf(`${TLS}  client_auth_type: ${type}\n`).tls;
      assert.deepEqual([tls?.clientAuthType, tls?.clientCa], [type, undefined]);
    }
  });

  it('reads an inline client CA like the file', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const tls = configOf(
      `${TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca: |\n${pem.replace(/^/gm, '    ').trimEnd()}\n`,
    ).tls;
    assert.deepEqual(tls?.clientCa, { kind: 'inline', text: pem });
  });

  it('reads a header value YAML takes for a number as its text, as Go does', () => {
    assert.deepEqual(configOf('http_server_config:\n  headers:\n    X-XSS-Protection: 1\n').headers, {
      'X-XSS-Protection': '1',
    });
  });

  it('accepts a cipher list without the HTTP/2 suite when http2 is off or TLS 1.3 is the floor, as Go does', () => {
    const ciphers = '  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA]\n';
    assert.equal(configOf(`${TLS}${ciphers}http_server_config:\n  http2: false\n`).http2, false);
    assert.equal(configOf(`${TLS}${ciphers}  min_version: TLS13\n`).tls?.minVersion, 'TLS13');
  });

  it('reads rate_limit as the toolkit does: interval 0 or no block is no limit, burst defaults to 0', () => {
    assert.deepEqual(configOf('rate_limit:\n  interval: 1s\n  burst: 20\n').rateLimit, { intervalMs: 1000, burst: 20 });
    assert.deepEqual(configOf('rate_limit:\n  interval: 250ms\n').rateLimit, { intervalMs: 250, burst: 0 });
    assert.equal(configOf('rate_limit:\n  interval: 0\n  burst: 20\n').rateLimit, undefined);
    assert.equal(configOf('rate_limit:\n').rateLimit, undefined);
  });

  it('reads the old name RequireClientCert as RequireAnyClientCert, as the toolkit does', () => {
    assert.equal(configOf(`${TLS}  client_auth_type: RequireClientCert\n`).tls?.clientAuthType, 'RequireAnyClientCert');
  });

  it('serves basic auth without TLS when only users are given', () => {
    const config = configOf(`basic_auth_users:\n  alice: '${HASH}'\n`);
    assert.equal(config.tls, undefined);
    assert.deepEqual([...config.basicAuthUsers.keys()], ['alice']);
  });
});

describe('examples/web-config.yml', () => {
  it('is a valid web config with TLS, a verified client certificate and basic auth', async () => {
    const text = await readFile(new URL('../../examples/web-config.yml', import.meta.url), 'utf8');
    const config = configOf(text);
    assert.equal(config.tls?.clientAuthType, 'RequireAndVerifyClientCert');
    assert.equal(config.tls?.cert.kind === 'file' && config.tls.cert.path, '/etc/exposure-exporter/tls/exporter.crt');
    assert.deepEqual([...config.basicAuthUsers.keys()], ['prometheus']);
  });
});

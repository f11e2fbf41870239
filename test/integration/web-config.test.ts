/**
 * --web.config.file against the built CLI: real TLS on loopback with throwaway certificates from openssl,
 * every client-certificate policy, basic auth, and re-reading a changed file.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { makeTestCertificates } from '../support/certificates.ts';
import type { KeyPair, TestCertificates } from '../support/certificates.ts';
import { runExporter, startExporter } from '../support/exporter-process.ts';
import type { ExporterProcess } from '../support/exporter-process.ts';
import { renderLoggedError } from '../support/logged-error.ts';
import { pollUntil } from '../support/poll.ts';

interface Call {
  readonly path?: string;
  readonly method?: string;
  readonly clientCert?: KeyPair;
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** `user:password` */
  readonly auth?: string;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let certs: TestCertificates;
let fileCount = 0;

/** One HTTPS request that trusts the test CA, with a deadline; a refused handshake rejects. */
function call(exporter: ExporterProcess, options: Call = {}): Promise<Answer> {
  const url = new URL(options.path ?? '/metrics', exporter.baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: options.method ?? 'GET',
        ca: certs.ca,
        agent: false,
        timeout: 10_000,
        ...(options.clientCert ? { cert: options.clientCert.cert, key: options.clientCert.key } : {}),
        ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
        ...(options.auth ? { auth: options.auth } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function writeWebConfig(text: string | Buffer, name?: string): Promise<string> {
  fileCount += 1;
  const path = join(certs.dir, name ?? `web-${fileCount}.yml`);
  await writeFile(path, text);
  return path;
}

/** A web config serving the test server certificate by relative path, plus `extra` lines. */
function tlsConfig(extra: string[] = []): string {
  return [
    'tls_server_config:',
    '  cert_file: server.crt',
    '  key_file: server.key',
    ...extra.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

async function withExporter(webConfig: string, test: (exporter: ExporterProcess) => Promise<void>): Promise<void> {
  const exporter = await startExporter([`--web.config.file=${await writeWebConfig(webConfig)}`]);
  try {
    await test(exporter);
  } finally {
    await exporter.stop();
  }
}

/** Whether a request with this client certificate gets /-/healthy served. */
async function admitted(exporter: ExporterProcess, clientCert?: KeyPair): Promise<boolean> {
  try {
    return (await call(exporter, { path: '/-/healthy', ...(clientCert ? { clientCert } : {}) })).status === 200;
  } catch {
    return false;
  }
}

async function waitFor(predicate: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  await pollUntil(predicate, (holds) => holds, { what, timeoutMs, intervalMs: 200 });
}

describe('--web.config.file', { timeout: 240_000 }, () => {
  before(async () => {
    certs = await makeTestCertificates();
  });
  after(async () => {
    await rm(certs.dir, { recursive: true, force: true });
  });

  it('serves /metrics over TLS with the configured headers, and refuses plain HTTP on the TLS port', async () => {
    await withExporter(
      `${tlsConfig()}http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n`,
      async (exporter) => {
        assert.match(exporter.baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
        const answer = await call(exporter);
        assert.equal(answer.status, 200);
        assert.equal(answer.headers['x-content-type-options'], 'nosniff');
        assert.match(answer.body, /^exposure_build_info\{/m);
        assert.match(answer.body, /^exposure_web_config_last_reload_successful 1$/m);

        const plain = new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            `${exporter.baseUrl.replace('https:', 'http:')}/metrics`,
            { agent: false, timeout: 10_000 },
            (res) => resolve(res.statusCode ?? 0),
          );
          req.on('timeout', () => req.destroy(new Error('timed out')));
          req.on('error', reject);
          req.end();
        });
        await assert.rejects(
          plain,
          (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET' || /socket hang up/.test(err.message),
        );
      },
    );
  });

  it('serves inline cert and key', async () => {
    const inline = [
      'tls_server_config:',
      `  cert: ${JSON.stringify(certs.server.cert)}`,
      `  key: ${JSON.stringify(certs.server.key)}`,
      '',
    ].join('\n');
    await withExporter(inline, async (exporter) => {
      assert.equal((await call(exporter)).status, 200);
    });
  });

  /** `ca`: how the client CA is given; without one, a verifying policy checks against the system's roots. */
  const POLICIES: readonly {
    type: string;
    ca: 'file' | 'inline' | 'none';
    none: boolean;
    trusted: boolean;
    stranger: boolean;
  }[] = [
    { type: 'NoClientCert', ca: 'none', none: true, trusted: true, stranger: true },
    { type: 'RequestClientCert', ca: 'none', none: true, trusted: true, stranger: true },
    { type: 'RequireAnyClientCert', ca: 'none', none: false, trusted: true, stranger: true },
    { type: 'VerifyClientCertIfGiven', ca: 'file', none: true, trusted: true, stranger: false },
    { type: 'RequireAndVerifyClientCert', ca: 'file', none: false, trusted: true, stranger: false },
    { type: 'VerifyClientCertIfGiven', ca: 'inline', none: true, trusted: true, stranger: false },
    { type: 'RequireAndVerifyClientCert', ca: 'inline', none: false, trusted: true, stranger: false },
    // The test CA is not among the system's trusted roots, so neither client verifies.
    { type: 'VerifyClientCertIfGiven', ca: 'none', none: true, trusted: false, stranger: false },
    { type: 'RequireAndVerifyClientCert', ca: 'none', none: false, trusted: false, stranger: false },
  ];
  for (const policy of POLICIES) {
    const caLines = { file: ['client_ca_file: ca.crt'], inline: [`client_ca: ${JSON.stringify('CA_PEM')}`], none: [] }[
      policy.ca
    ];
    it(`${policy.type}, client CA ${policy.ca}: no certificate ${policy.none ? 'admitted' : 'refused'}, the test CA's ${policy.trusted ? 'admitted' : 'refused'}, another CA's ${policy.stranger ? 'admitted' : 'refused'}`, async () => {
      const lines = [
        `client_auth_type: ${policy.type}`,
        ...caLines.map((line) => line.replace('"CA_PEM"', JSON.stringify(certs.ca))),
      ];
      await withExporter(tlsConfig(lines), async (exporter) => {
        assert.deepEqual(
          {
            none: await admitted(exporter),
            trusted: await admitted(exporter, certs.clientA),
            stranger: await admitted(exporter, certs.stranger),
          },
          { none: policy.none, trusted: policy.trusted, stranger: policy.stranger },
        );
      });
    });
  }

  it('rate_limit: 10 quick requests get 429 at interval 1s and burst 0, 200 at interval 0, and a burst of 3 lets 3 through', async () => {
    const statuses = async (webConfig: string): Promise<number[]> => {
      const exporter = await startExporter([`--web.config.file=${await writeWebConfig(webConfig)}`]);
      try {
        const answers: number[] = [];
        for (let i = 0; i < 10; i += 1) answers.push((await fetch(`${exporter.baseUrl}/-/healthy`)).status);
        return answers;
      } finally {
        await exporter.stop();
      }
    };
    assert.deepEqual(await statuses('rate_limit:\n  interval: 1s\n  burst: 0\n'), Array(10).fill(429));
    assert.deepEqual(await statuses('rate_limit:\n  interval: 0\n  burst: 0\n'), Array(10).fill(200));
    assert.deepEqual(await statuses('rate_limit:\n  interval: 1m\n  burst: 3\n'), [
      ...Array(3).fill(200),
      ...Array(7).fill(429),
    ]);
  });

  it('curve_preferences: a TLS 1.2 client offering only another curve is refused', async () => {
    await withExporter(tlsConfig(['max_version: TLS12', 'curve_preferences: [CurveP384]']), async (exporter) => {
      const handshake = (ecdhCurve: string): Promise<number> =>
        new Promise((resolve, reject) => {
          // ECDHE suites only: without a shared curve the handshake must fail, not fall back to another key exchange.
          const options = {
            ca: certs.ca,
            agent: false,
            timeout: 10_000,
            ecdhCurve,
            ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
          };
          const req = httpsRequest(new URL('/-/healthy', exporter.baseUrl), options, (res) => {
            resolve(res.statusCode ?? 0);
            res.resume();
          });
          req.on('error', reject);
          req.end();
        });
      assert.equal(await handshake('P-384'), 200);
      await assert.rejects(handshake('P-256'));
    });
  });

  it("prefer_server_cipher_suites: the server's order wins when true, the client's when false", async () => {
    const chosen = async (prefer: boolean): Promise<string> => {
      const lines = [
        'max_version: TLS12',
        'cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]',
        `prefer_server_cipher_suites: ${prefer}`,
      ];
      let cipher = '';
      await withExporter(tlsConfig(lines), async (exporter) => {
        cipher = await new Promise<string>((resolve, reject) => {
          const options = {
            ca: certs.ca,
            agent: false,
            timeout: 10_000,
            ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384',
          };
          const req = httpsRequest(new URL('/-/healthy', exporter.baseUrl), options, (res) => {
            resolve((res.socket as import('node:tls').TLSSocket).getCipher().name);
            res.resume();
          });
          req.on('error', reject);
          req.end();
        });
      });
      return cipher;
    };
    assert.equal(await chosen(true), 'ECDHE-RSA-AES256-GCM-SHA384');
    assert.equal(await chosen(false), 'ECDHE-RSA-AES128-GCM-SHA256');
  });

  it('http_server_config: every allowed header is sent, and http2 offers only HTTP/1.1 in ALPN (see README)', async () => {
    const headers = [
      'http_server_config:',
      '  http2: true',
      '  headers:',
      '    Content-Security-Policy: "default-src \'self\'"',
      '    X-Frame-Options: sameorigin',
      '    X-Content-Type-Options: nosniff',
      '    X-XSS-Protection: "1; mode=block"',
      '    Strict-Transport-Security: max-age=31536000',
      '',
    ].join('\n');
    await withExporter(tlsConfig() + headers, async (exporter) => {
      const answer = await new Promise<{ alpn: string | false | null; headers: Record<string, unknown> }>(
        (resolve, reject) => {
          const options: import('node:https').RequestOptions & import('node:tls').ConnectionOptions = {
            ca: certs.ca,
            agent: false,
            timeout: 10_000,
            ALPNProtocols: ['h2', 'http/1.1'],
          };
          const req = httpsRequest(new URL('/-/healthy', exporter.baseUrl), options, (res) => {
            resolve({ alpn: (res.socket as import('node:tls').TLSSocket).alpnProtocol, headers: res.headers });
            res.resume();
          });
          req.on('error', reject);
          req.end();
        },
      );
      assert.equal(answer.alpn, 'http/1.1');
      assert.deepEqual(
        [
          'content-security-policy',
          'x-frame-options',
          'x-content-type-options',
          'x-xss-protection',
          'strict-transport-security',
        ].map((name) => answer.headers[name]),
        ["default-src 'self'", 'sameorigin', 'nosniff', '1; mode=block', 'max-age=31536000'],
      );
    });
  });

  it('admits only client certificates with an allowed SAN', async () => {
    const lines = [
      'client_auth_type: RequireAndVerifyClientCert',
      'client_ca_file: ca.crt',
      'client_allowed_sans: [client-a.example]',
    ];
    await withExporter(tlsConfig(lines), async (exporter) => {
      assert.equal(await admitted(exporter, certs.clientA), true);
      assert.equal(await admitted(exporter, certs.clientB), false);
      // The client sees the connection close before the exporter's log line reaches the test: wait for it.
      await waitFor(
        async () =>
          exporter
            .logs()
            .some(
              (entry) =>
                entry['msg'] === 'refused a TLS client' && /has client-b\.example/.test(String(entry['reason'])),
            ),
        'the refusal in the log',
      );
    });
  });

  it('refuses a TLS 1.2 client when min_version is TLS13', async () => {
    await withExporter(tlsConfig(['min_version: TLS13']), async (exporter) => {
      await assert.rejects(call(exporter, { maxVersion: 'TLSv1.2' }));
      assert.equal((await call(exporter, { maxVersion: 'TLSv1.3' })).status, 200);
    });
  });

  it('serves only the cipher suites listed to a TLS 1.2 client', async () => {
    // http2 off: with it on, a TLS 1.2 list must hold HTTP/2's required suite, as in Go (see the refusals).
    await withExporter(
      `${tlsConfig(['max_version: TLS12', 'cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]'])}http_server_config:\n  http2: false\n`,
      async (exporter) => {
        const cipher = await new Promise<string>((resolve, reject) => {
          const req = httpsRequest(
            new URL('/-/healthy', exporter.baseUrl),
            { ca: certs.ca, agent: false, timeout: 10_000 },
            (res) => {
              resolve((res.socket as import('node:tls').TLSSocket).getCipher().name);
              res.resume();
            },
          );
          req.on('error', reject);
          req.end();
        });
        assert.equal(cipher, 'ECDHE-RSA-AES256-GCM-SHA384');
      },
    );
  });

  it('asks for basic auth on every path but /-/healthy, POST /-/reload included', async () => {
    const hash = await bcrypt.hash('scrape-secret', 4);
    await withExporter(`${tlsConfig()}basic_auth_users:\n  prometheus: '${hash}'\n`, async (exporter) => {
      const anonymous = await call(exporter);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers['www-authenticate'], 'Basic');
      assert.deepEqual(JSON.parse(anonymous.body), {
        error: { code: 'UNAUTHORIZED', message: 'this exporter needs basic auth credentials from the web config file' },
      });
      assert.equal((await call(exporter, { auth: 'prometheus:wrong' })).status, 401);
      assert.equal((await call(exporter, { auth: 'nobody:scrape-secret' })).status, 401);
      assert.equal((await call(exporter, { path: '/report', auth: 'prometheus:wrong' })).status, 401);
      assert.equal((await call(exporter, { auth: 'prometheus:scrape-secret' })).status, 200);
      assert.equal((await call(exporter, { path: '/-/healthy' })).status, 200);
      assert.equal((await call(exporter, { path: '/-/reload', method: 'POST' })).status, 401);
      assert.equal(
        (await call(exporter, { path: '/-/reload', method: 'POST', auth: 'prometheus:scrape-secret' })).status,
        200,
      );
    });
  });

  const BAD_AT_START: readonly { name: string; text: () => string | Buffer; message: (path: string) => string }[] = [
    {
      name: 'an unknown key',
      text: () => 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  http2: true\n',
      message: (path) =>
        `${path}: tls_server_config.http2: unknown key (expected one of cert, key, cert_file, key_file, client_auth_type, client_ca, client_ca_file, client_allowed_sans, min_version, max_version, cipher_suites, prefer_server_cipher_suites, curve_preferences)\n`,
    },
    {
      name: 'a certificate file that does not exist',
      text: () => 'tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n',
      message: (path) =>
        `${path}: tls_server_config.cert_file: cannot read ${join(certs.dir, 'missing.crt')}: no such file\n`,
    },
    {
      name: 'a key that does not belong to the certificate',
      text: () => 'tls_server_config:\n  cert_file: server.crt\n  key_file: client-a.key\n',
      message: (path) => `${path}: tls_server_config.key_file: is not the key of the certificate in cert_file\n`,
    },
    {
      name: 'a certificate file that holds a key instead',
      text: () => 'tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n',
      message: (path) => `${path}: tls_server_config.cert_file: holds no PEM certificate\n`,
    },
    {
      name: 'a client CA file that holds no certificate',
      text: () =>
        'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: server.key\n',
      message: (path) =>
        `${path}: tls_server_config.client_ca_file: ${join(certs.dir, 'server.key')} holds no PEM certificate\n`,
    },
    {
      name: 'an inline client CA that holds no certificate',
      text: () =>
        `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca: ${JSON.stringify(certs.server.key)}\n`,
      message: (path) => `${path}: tls_server_config.client_ca: holds no PEM certificate\n`,
    },
    {
      name: 'both an inline client CA and a client CA file',
      text: () =>
        `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca: ${JSON.stringify(certs.ca)}\n  client_ca_file: ca.crt\n`,
      message: (path) => `${path}: tls_server_config: give client_ca or client_ca_file, not both\n`,
    },
    {
      name: 'a rate_limit burst that is not a number',
      text: () => 'rate_limit:\n  interval: 1s\n  burst: lots\n',
      message: (path) => `${path}: rate_limit.burst: "lots" must be an integer from 0 to 9007199254740991\n`,
    },
    {
      name: 'a user name that is not UTF-8',
      text: () =>
        Buffer.concat([
          Buffer.from('basic_auth_users:\n  b'),
          Buffer.from([0xff]),
          Buffer.from(`b: '${'$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG'}'\n`),
        ]),
      message: (path) => `${path}: basic_auth_users: a key holds bytes that are not valid UTF-8\n`,
    },
    {
      name: 'a file over 1 MiB',
      text: () => `# ${'x'.repeat(1024 * 1024)}\n`,
      message: (path) => `${path}: the file is ${1024 * 1024 + 3} bytes, more than the limit of ${1024 * 1024} bytes\n`,
    },
    {
      name: 'a password that is not a bcrypt hash',
      text: () => 'basic_auth_users:\n  prometheus: hunter2\n',
      message: (path) =>
        `${path}: basic_auth_users.prometheus: must be a bcrypt hash: $2a$, $2b$ or $2y$, a two-digit cost, $ and 53 more characters (the value is not shown: it may be a password)\n`,
    },
  ];
  for (const bad of BAD_AT_START) {
    it(`exits 2 at start on ${bad.name}, naming the key`, async () => {
      const path = await writeWebConfig(bad.text());
      const result = await runExporter(['--web.listen-address=127.0.0.1:0', `--web.config.file=${path}`]);
      assert.equal(result.code, 2);
      assert.equal(result.stderr, bad.message(path));
      assert.doesNotMatch(result.stderr, /hunter2/);
    });
  }

  it('refuses a reload that would turn TLS off, and keeps serving TLS', async () => {
    const path = await writeWebConfig(tlsConfig(), 'web-tls-off.yml');
    const exporter = await startExporter([`--web.config.file=${path}`]);
    try {
      await writeFile(path, 'http_server_config:\n  headers:\n    X-Frame-Options: deny\n');
      exporter.child.kill('SIGHUP');
      const failed = (): Record<string, unknown> | undefined =>
        exporter.logs().find((entry) => entry['msg'] === 'web config reload failed; keeping the previous web config');
      await waitFor(async () => failed() !== undefined, 'the refused reload');
      assert.equal(
        renderLoggedError(failed()),
        `CONFIG_INVALID: ${path}: tls_server_config: turning TLS off takes a restart`,
      );
      const answer = await call(exporter);
      assert.equal(answer.status, 200);
      assert.match(answer.body, /^exposure_web_config_last_reload_successful 0$/m);
    } finally {
      await exporter.stop();
    }
  });

  it('applies a changed file without a signal, and keeps the previous one when the new one is bad', async () => {
    const alice = await bcrypt.hash('alice-secret', 4);
    const bob = await bcrypt.hash('bob-secret', 4);
    const path = await writeWebConfig(`${tlsConfig()}basic_auth_users:\n  alice: '${alice}'\n`, 'web-reload.yml');
    const exporter = await startExporter([`--web.config.file=${path}`]);
    try {
      assert.equal((await call(exporter, { auth: 'alice:alice-secret' })).status, 200);

      await writeFile(path, `${tlsConfig()}basic_auth_users:\n  bob: '${bob}'\n`);
      await waitFor(
        async () => (await call(exporter, { auth: 'bob:bob-secret' })).status === 200,
        'the periodic check to apply the new users',
      );
      assert.equal((await call(exporter, { auth: 'alice:alice-secret' })).status, 401);

      await writeFile(path, `${tlsConfig()}basic_auth_users:\n  bob: not-a-hash\n`);
      const reload = await call(exporter, { path: '/-/reload', method: 'POST', auth: 'bob:bob-secret' });
      assert.equal(reload.status, 500);
      assert.equal((JSON.parse(reload.body) as { error: { code: string } }).error.code, 'CONFIG_INVALID');
      const metrics = await call(exporter, { auth: 'bob:bob-secret' });
      assert.equal(metrics.status, 200, 'the previous users still apply');
      assert.match(metrics.body, /^exposure_web_config_last_reload_successful 0$/m);
      assert.ok(
        exporter.logs().some((entry) => entry['msg'] === 'web config reload failed; keeping the previous web config'),
      );

      await writeFile(path, `${tlsConfig()}basic_auth_users:\n  alice: '${alice}'\n`);
      exporter.child.kill('SIGHUP');
      await waitFor(
        async () => (await call(exporter, { auth: 'alice:alice-secret' })).status === 200,
        'SIGHUP to apply the fixed file',
      );
      assert.match(
        (await call(exporter, { auth: 'alice:alice-secret' })).body,
        /^exposure_web_config_last_reload_successful 1$/m,
      );
    } finally {
      await exporter.stop();
    }
  });
});

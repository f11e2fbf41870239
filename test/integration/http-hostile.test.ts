/**
 * The built exporter against hostile and careless HTTP clients: wrong methods, malformed query strings,
 * bodies where none belong, oversized and unparseable requests. Every answer that our code writes is a 4xx
 * with the JSON error body; the few that Node writes before our code runs are pinned as they are.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startExporter } from '../support/exporter-process.ts';
import type { ExporterProcess } from '../support/exporter-process.ts';
import { sendRaw } from '../support/raw-http.ts';
import type { RawResponse } from '../support/raw-http.ts';
import { pollUntil } from '../support/poll.ts';

const READ_PATHS = ['/', '/metrics', '/report', '/-/healthy', '/-/ready'];
const SEVERITY_CHOICES = 'must be one of critical, high, medium, low';

let exporter: ExporterProcess;
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exposure-http-hostile-'));
  const config = join(dir, 'config.yml');
  // One closed loopback port, so the first cycle ends at once and /-/ready answers 200.
  await writeFile(
    config,
    `scan:\n  targets: ["127.0.0.1"]\n  ports: "1"\n  nmap: {scan_type: connect}\nstate: {path: ${JSON.stringify(join(dir, 'state.json'))}}\n`,
  );
  exporter = await startExporter([`--config.file=${config}`]);
  await waitUntilReady(exporter.baseUrl);
});

after(async () => {
  await exporter?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('wrong methods', () => {
  for (const path of READ_PATHS) {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'POST']) {
      it(`answers ${method} ${path} with 405, Allow: GET, HEAD and a JSON error`, async () => {
        const response = await fetch(`${exporter.baseUrl}${path}`, { method });
        assert.equal(response.status, 405);
        assert.equal(response.headers.get('allow'), 'GET, HEAD');
        await assertJsonError(response, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use GET`);
      });
    }
  }

  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    it(`answers ${method} /-/reload with 405, Allow: POST and a JSON error`, async () => {
      const response = await fetch(`${exporter.baseUrl}/-/reload`, { method });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), 'POST');
      await assertJsonError(response, 'METHOD_NOT_ALLOWED', 'use POST to reload the config');
    });
  }

  it('answers TRACE, which fetch cannot send, with 405 and a JSON error', async () => {
    const response = await sendRaw(exporter.baseUrl, request('TRACE', '/metrics'));
    assertRawJsonError(response, 405, 'METHOD_NOT_ALLOWED', 'TRACE is not allowed on /metrics; use GET');
    assert.equal(response.headers['allow'], 'GET, HEAD');
  });

  for (const path of READ_PATHS) {
    it(`answers HEAD ${path} like GET, without a body`, async () => {
      const [head, get] = await Promise.all([
        fetch(`${exporter.baseUrl}${path}`, { method: 'HEAD' }),
        fetch(`${exporter.baseUrl}${path}`),
      ]);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-type'), get.headers.get('content-type'));
      assert.equal(await head.text(), '');
      assert.notEqual(await get.text(), '');
    });
  }

  it('answers HEAD /-/reload with 405 and Allow: POST, and does not reload', async () => {
    const response = await fetch(`${exporter.baseUrl}/-/reload`, { method: 'HEAD' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    assert.equal(countReloads(), 0);
  });

  it('answers a wrong method on an unknown path with a JSON 404', async () => {
    const response = await fetch(`${exporter.baseUrl}/nope`, { method: 'DELETE' });
    assert.equal(response.status, 404);
    await assertJsonError(response, 'NOT_FOUND', 'no such path: /nope');
  });
});

describe('odd paths and query strings', () => {
  const notFound: [path: string, reported: string][] = [
    ['/%zz', '/%zz'],
    ['/metrics/%zz', '/metrics/%zz'],
    ['/%00', '/%00'],
    ['/../../etc/passwd', '/../../etc/passwd'],
    ['//evil.example/report', '//evil.example/report'],
  ];
  for (const [path, reported] of notFound) {
    it(`answers ${JSON.stringify(path)} with a JSON 404 naming the path as sent`, async () => {
      const response = await sendRaw(exporter.baseUrl, request('GET', path));
      assertRawJsonError(response, 404, 'NOT_FOUND', `no such path: ${reported}`);
    });
  }

  it('answers a URL Express cannot parse with a JSON 400 instead of its HTML page', async () => {
    const response = await sendRaw(exporter.baseUrl, request('GET', 'http://[::1/metrics'));
    assertRawJsonError(response, 400, 'BAD_URL', 'the request URL cannot be parsed');
  });

  const badFilters: [query: string, message: string][] = [
    ['severity=%zz', `severity="%zz" ${SEVERITY_CHOICES}`],
    ['severity=%E0%A4%A', `severity="\uFFFD%A" ${SEVERITY_CHOICES}`],
    ['severity=high&severity=%00', `severity="\\u0000" ${SEVERITY_CHOICES}`],
    ['suspicious=true&suspicious=false', 'suspicious is given 2 times; give it once (only severity may repeat)'],
    ['tenant=shop&tenant=bank&tenant=shop', 'tenant is given 3 times; give it once (only severity may repeat)'],
    ['suspicious', 'suspicious="" must be true or false'],
    ['suspicious=%74rue%00', 'suspicious="true\\u0000" must be true or false'],
    ['=x', 'unknown filter "" (expected one of suspicious, tenant, severity)'],
    ['%zz=1', 'unknown filter "%zz" (expected one of suspicious, tenant, severity)'],
    ['SUSPICIOUS=true', 'unknown filter "SUSPICIOUS" (expected one of suspicious, tenant, severity)'],
    ['tenant[]=shop', 'unknown filter "tenant[]" (expected one of suspicious, tenant, severity)'],
    ['__proto__=1', 'unknown filter "__proto__" (expected one of suspicious, tenant, severity)'],
  ];
  for (const [query, message] of badFilters) {
    it(`answers /report?${query} with 400 and a JSON error naming the filter`, async () => {
      const response = await fetch(`${exporter.baseUrl}/report?${query}`);
      assert.equal(response.status, 400);
      await assertJsonError(response, 'BAD_FILTER', message);
    });
  }

  it('answers a huge unknown severity with 400, quoting it whole as JSON', async () => {
    const value = 'x'.repeat(12_000);
    const response = await fetch(`${exporter.baseUrl}/report?severity=${value}`);
    assert.equal(response.status, 400);
    await assertJsonError(response, 'BAD_FILTER', `severity="${value}" ${SEVERITY_CHOICES}`);
  });

  it('reads a tenant with bad percent-encoding or of huge length as a plain name that matches nothing', async () => {
    for (const tenant of ['%zz', '%E0%A4%A', 't'.repeat(12_000)]) {
      const response = await fetch(`${exporter.baseUrl}/report?tenant=${tenant}`);
      assert.equal(response.status, 200, tenant.slice(0, 20));
      const report = (await response.json()) as { hosts: unknown[]; schema_version: number };
      assert.equal(report.schema_version, 1);
      assert.deepEqual(report.hosts, []);
    }
  });

  it('ignores query strings on the paths that take none', async () => {
    const healthy = await fetch(`${exporter.baseUrl}/-/healthy?%zz=%zz&a=1&a=2`);
    assert.equal(healthy.status, 200);
    assert.equal(await healthy.text(), 'Healthy\n');
    const metrics = await fetch(`${exporter.baseUrl}/metrics?name[]=x&%zz`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^exposure_scan_success 1$/m);
  });
});

describe('request bodies', () => {
  it('refuses a body on GET with 413 and a JSON error', async () => {
    const response = await sendRaw(exporter.baseUrl, request('GET', '/report', { 'Content-Length': '5' }, 'hello'));
    assertRawJsonError(response, 413, 'BODY_NOT_ALLOWED', 'GET /report takes no request body');
  });

  it('refuses a chunked body on GET with 413 and a JSON error', async () => {
    const response = await sendRaw(
      exporter.baseUrl,
      request('GET', '/-/healthy', { 'Transfer-Encoding': 'chunked' }, '5\r\nhello\r\n0\r\n\r\n'),
    );
    assertRawJsonError(response, 413, 'BODY_NOT_ALLOWED', 'GET /-/healthy takes no request body');
  });

  it('refuses a large POST body to /-/reload with 413 without reading it or reloading', async () => {
    const before = countReloads();
    const chunk = 'a'.repeat(256 * 1024);
    const response = await sendRaw(
      exporter.baseUrl,
      request('POST', '/-/reload', { 'Content-Length': String(64 * 1024 * 1024) }, chunk),
    );
    assertRawJsonError(response, 413, 'BODY_NOT_ALLOWED', 'POST /-/reload takes no request body');
    assert.equal(response.headers['connection'], 'close');
    assert.equal(countReloads(), before);
  });

  it('still reloads on a POST without a body', async () => {
    const before = countReloads();
    const response = await fetch(`${exporter.baseUrl}/-/reload`, { method: 'POST' });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'Config reloaded\n');
    await waitFor(() => countReloads() === before + 1, 'the reload to be logged');
  });
});

describe('requests Node refuses before any route runs', () => {
  it('answers a request line and headers over 16 KiB (a ~100 KB URL) with 431 and a JSON error', async () => {
    const response = await sendRaw(exporter.baseUrl, request('GET', `/report?tenant=${'a'.repeat(100_000)}`));
    assertRawJsonError(response, 431, 'HEADERS_TOO_LARGE', 'the request line and headers are larger than 16384 bytes');
  });

  it('answers one huge header with 431 and a JSON error', async () => {
    const response = await sendRaw(exporter.baseUrl, request('GET', '/metrics', { 'X-Filler': 'b'.repeat(20_000) }));
    assertRawJsonError(response, 431, 'HEADERS_TOO_LARGE', 'the request line and headers are larger than 16384 bytes');
  });

  const malformed: [what: string, bytes: string, code: string][] = [
    ['a request line that is not HTTP', 'HELLO\r\n\r\n', 'HPE_INVALID_METHOD'],
    ['an unknown HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 'HPE_INVALID_VERSION'],
    ['a control character in the path', 'GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n', 'HPE_INVALID_URL'],
    [
      'a space in the host of an absolute URL',
      'GET http://a b/metrics HTTP/1.1\r\nHost: x\r\n\r\n',
      'HPE_INVALID_CONSTANT',
    ],
    ['a NUL in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['an obsolete folded header line', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    [
      'two different Content-Lengths',
      'POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    ],
    [
      'Content-Length beside chunked encoding',
      'POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'HPE_INVALID_TRANSFER_ENCODING',
    ],
    [
      'a Content-Length that is not a number',
      'POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'HPE_INVALID_CONTENT_LENGTH',
    ],
  ];
  for (const [what, bytes, code] of malformed) {
    it(`answers ${what} with 400 and a JSON error naming the parser's reason`, async () => {
      const response = await sendRaw(exporter.baseUrl, bytes);
      assertRawJsonError(response, 400, 'BAD_REQUEST', `the request is not valid HTTP (${code})`);
    });
  }

  it('answers an Expect header other than 100-continue with 417 and a JSON error', async () => {
    const response = await sendRaw(exporter.baseUrl, request('GET', '/metrics', { Expect: 'bogus' }));
    assertRawJsonError(response, 417, 'EXPECTATION_FAILED', 'Expect: "bogus" is not supported (only 100-continue is)');
  });

  it("leaves an HTTP/1.1 request without Host to Node's own empty 400", async () => {
    const response = await sendRaw(exporter.baseUrl, 'GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(response.status, 400);
    assert.equal(response.body, '');
  });
});

describe('odd but harmless headers', () => {
  it('serves the report as JSON whatever Accept, Accept-Encoding or Host say', async () => {
    const response = await sendRaw(
      exporter.baseUrl,
      request('GET', '/report', {
        Host: 'evil.example:99999',
        Accept: 'text/html',
        'Accept-Encoding': 'br, gzip, zstd',
        'X-Forwarded-For': '203.0.113.1',
      }),
    );
    assert.equal(response.status, 200);
    assert.match(response.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(response.headers['content-encoding'], undefined);
    assert.equal((JSON.parse(response.body) as { schema_version: number }).schema_version, 1);
  });

  it('answers HTTP/1.0 without Host', async () => {
    const response = await sendRaw(exporter.baseUrl, 'GET /-/healthy HTTP/1.0\r\n\r\n');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'Healthy\n');
  });

  it('is still healthy and ready after every request above', async () => {
    assert.equal((await fetch(`${exporter.baseUrl}/-/healthy`)).status, 200);
    assert.equal((await fetch(`${exporter.baseUrl}/-/ready`)).status, 200);
    assert.equal(exporter.child.exitCode, null);
  });
});

/** A request with Host and Connection: close, so the server ends the connection once it has answered. */
function request(method: string, target: string, headers: Readonly<Record<string, string>> = {}, body = ''): string {
  const all = { Host: '127.0.0.1', Connection: 'close', ...headers };
  const lines = Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `${method} ${target} HTTP/1.1\r\n${lines}\r\n${body}`;
}

async function assertJsonError(response: Response, code: string, message: string): Promise<void> {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await response.json(), { error: { code, message } });
}

function assertRawJsonError(response: RawResponse, status: number, code: string, message: string): void {
  assert.equal(response.status, status, response.raw.slice(0, 300));
  assert.match(response.headers['content-type'] ?? '', /^application\/json/, response.raw.slice(0, 300));
  assert.deepEqual(JSON.parse(response.body), { error: { code, message } });
}

function countReloads(): number {
  return exporter.logs().filter((entry) => entry['msg'] === 'config reloaded').length;
}

async function waitUntilReady(baseUrl: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await fetch(`${baseUrl}/-/ready`)).status !== 200) {
    if (Date.now() > deadline) throw new Error('the exporter did not become ready within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  await pollUntil(
    async () => predicate(),
    (holds) => holds,
    { what, timeoutMs, intervalMs: 50 },
  );
}

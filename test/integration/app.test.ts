import assert from 'node:assert/strict';
import { createServer, get } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ExporterState } from '../../src/state/exporter-state.ts';
import { ConfigError } from '../../src/errors.ts';
import { createApp } from '../../src/http/app.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsEndpoint } from '../../src/metrics/collectors.ts';
import { assertGolden } from '../support/golden.ts';
import { testConfig, twoCycleState } from '../support/snapshots.ts';

const BUILD = { version: '0.1.0', revision: 'abc123', nodejsVersion: 'v24.21.0', nmapVersion: '7.93' };
const NOW = new Date('2026-11-26T02:05:00Z');

async function serve(state: ExporterState, reload: () => Promise<void> = async () => {}) {
  const metrics = createMetricsEndpoint({ state, build: BUILD, processMetrics: true });
  const server = createServer(createApp({ state, metrics, build: BUILD, log: silentLogger, reload, now: () => NOW }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A GET whose body is returned as the bytes sent (fetch would decompress it). */
function getRaw(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers, signal: AbortSignal.timeout(10_000) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

describe('HTTP endpoints with results', () => {
  let base = '';
  let close = async () => {};
  let reloads = 0;
  let failNextReload = false;

  before(async () => {
    ({ base, close } = await serve(twoCycleState().state, async () => {
      reloads += 1;
      if (failNextReload) throw new ConfigError('c.yml', ['scan.interval: "1hour" is not a valid duration']);
    }));
  });
  after(() => close());

  it('serves the full report exactly as the golden file', async () => {
    const response = await fetch(`${base}/report`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    await assertGolden('report-two-cycles.json', `${JSON.stringify(await response.json(), null, 2)}\n`);
  });

  it('filters the report to suspicious hosts', async () => {
    const report = (await (await fetch(`${base}/report?suspicious=true`)).json()) as { hosts: { ip: string }[] };
    assert.deepEqual(
      report.hosts.map((host) => host.ip),
      ['203.0.113.7', '203.0.113.9', '203.0.113.10'],
    );
    const clean = (await (await fetch(`${base}/report?suspicious=false`)).json()) as { hosts: unknown[] };
    assert.deepEqual(clean.hosts, []);
  });

  it('filters the report by severity, keeping only matching ports', async () => {
    const report = (await (await fetch(`${base}/report?severity=critical`)).json()) as {
      hosts: { ip: string; ports: { port: number }[] }[];
      summary: { nonstandard_ports: number };
    };
    assert.deepEqual(
      report.hosts.map((host) => [host.ip, host.ports.map((port) => port.port)]),
      [['203.0.113.9', [2375]]],
    );
    assert.equal(report.summary.nonstandard_ports, 1);
  });

  it('answers a bad filter with 400 and a JSON error naming it', async () => {
    const response = await fetch(`${base}/report?severity=urgent`);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: { code: 'BAD_FILTER', message: 'severity="urgent" must be one of critical, high, medium, low' },
    });
  });

  it('is healthy and ready', async () => {
    assert.equal((await fetch(`${base}/-/healthy`)).status, 200);
    assert.equal((await fetch(`${base}/-/ready`)).status, 200);
  });

  it('serves metrics in the Prometheus text format', async () => {
    const response = await fetch(`${base}/metrics`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0.0.4/);
    assert.match(
      await response.text(),
      /^exposure_port_open\{ip="203.0.113.9",port="2375",.*severity="critical".*\} 1$/m,
    );
  });

  it('compresses /metrics with gzip when the client accepts it, as Prometheus does', async () => {
    const response = await getRaw(`${base}/metrics`, { 'Accept-Encoding': 'gzip' });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-encoding'], 'gzip');
    assert.equal(response.headers['vary'], 'Accept-Encoding');
    assert.equal(response.headers['content-length'], String(response.body.length));
    const text = gunzipSync(response.body).toString('utf8');
    assert.match(text, /^exposure_port_open\{ip="203.0.113.9",port="2375",.*\} 1$/m);
    assert.match(text, /^exposure_scans_total\{result="success"\} 2$/m);
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
  });

  it('serves /metrics uncompressed without Accept-Encoding or when gzip is refused', async () => {
    for (const headers of [{}, { 'Accept-Encoding': 'gzip;q=0, identity' }, { 'Accept-Encoding': 'br' }]) {
      const response = await getRaw(`${base}/metrics`, headers);
      assert.equal(response.status, 200);
      assert.equal(response.headers['content-encoding'], undefined, JSON.stringify(headers));
      assert.equal(response.headers['vary'], 'Accept-Encoding');
      assert.equal(response.headers['content-length'], String(response.body.length));
      assert.match(response.body.toString('utf8'), /^exposure_scans_total\{result="success"\} 2$/m);
    }
  });

  it('shows the last cycle on the landing page', async () => {
    const html = await (await fetch(`${base}/`)).text();
    assert.match(html, /<h1>exposure-exporter<\/h1>/);
    assert.match(html, /#2 succeeded/);
    assert.match(html, /6 \(3 nonstandard, 1 excepted\)/);
  });

  it('serves the landing page with a Content-Security-Policy that allows no script', async () => {
    const response = await fetch(`${base}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'");
  });

  it('filters the landing page with the report filters', async () => {
    const html = await (await fetch(`${base}/?severity=critical`)).text();
    assert.ok(html.includes('<td><code>203.0.113.9</code></td><td>2375/tcp</td>'), html);
    assert.doesNotMatch(html, /<td>6379\/tcp<\/td>/);
  });

  it('answers a bad landing page filter with the same 400 JSON error as the report', async () => {
    const response = await fetch(`${base}/?tenant=a&tenant=b`);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: { code: 'BAD_FILTER', message: 'tenant is given 2 times; give it once (only severity may repeat)' },
    });
  });

  it('reloads on POST and reports a rejected config as a JSON error', async () => {
    const ok = await fetch(`${base}/-/reload`, { method: 'POST' });
    assert.equal(ok.status, 200);
    failNextReload = true;
    const rejected = await fetch(`${base}/-/reload`, { method: 'POST' });
    assert.equal(rejected.status, 500);
    assert.deepEqual(await rejected.json(), {
      error: { code: 'CONFIG_INVALID', message: 'c.yml: scan.interval: "1hour" is not a valid duration' },
    });
    assert.equal(reloads, 2);
    assert.equal((await fetch(`${base}/-/reload`)).status, 405);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const response = await fetch(`${base}/nope`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: { code: 'NOT_FOUND', message: 'no such path: /nope' } });
  });
});

describe('HTTP endpoints before the first cycle', () => {
  it('is healthy but not ready, and reports no hosts', async () => {
    const { base, close } = await serve(new ExporterState({ config: testConfig(), startedAt: NOW }));
    try {
      assert.equal((await fetch(`${base}/-/healthy`)).status, 200);
      assert.equal((await fetch(`${base}/-/ready`)).status, 503);
      const report = (await (await fetch(`${base}/report`)).json()) as { hosts: unknown[]; scan: unknown };
      assert.deepEqual(report.hosts, []);
      assert.equal(report.scan, null);
    } finally {
      await close();
    }
  });
});

describe('/history without a history', () => {
  let base = '';
  let close = async () => {};
  before(async () => {
    ({ base, close } = await serve(twoCycleState().state));
  });
  after(() => close());

  it('answers 404 HISTORY_DISABLED, and 400 first for a bad parameter', async () => {
    const disabled = await fetch(`${base}/history`);
    assert.equal(disabled.status, 404);
    assert.deepEqual(await disabled.json(), {
      error: { code: 'HISTORY_DISABLED', message: 'history is disabled (history.enabled: false)' },
    });
    const bad = await fetch(`${base}/history?state=gone`);
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      error: { code: 'BAD_FILTER', message: 'state="gone" must be open or closed' },
    });
    const post = await fetch(`${base}/history`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });
});

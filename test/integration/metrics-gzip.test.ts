/**
 * /metrics answers a gzip scrape with two gzip members: the snapshot part, compressed once per snapshot, then
 * the live part, compressed per scrape. A real Prometheus (Debian's 2.42, whose Go gzip reader reads every
 * member of a stream) scrapes the exporter's HTTP app on loopback; every sample of both members must reach it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/http/app.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsEndpoint } from '../../src/metrics/collectors.ts';
import { parseExposition } from '../support/exposition.ts';
import { startPrometheus } from '../support/prometheus.ts';
import type { PrometheusServer, QueryResult } from '../support/prometheus.ts';
import { twoCycleState } from '../support/snapshots.ts';

const BUILD = { version: '0.1.0', revision: 'abc123', nodejsVersion: 'v24.21.0', nmapVersion: '7.93' };
const JOB = 'exposure';

function singleValue(result: QueryResult): number {
  return Number(result.result[0]?.value?.[1] ?? NaN);
}

describe('gzip scrapes by a real Prometheus', () => {
  const { state } = twoCycleState();
  // Without process metrics, so that the number of samples is the same at every scrape.
  const metrics = createMetricsEndpoint({ state, build: BUILD, processMetrics: false });
  const app = createApp({ state, metrics, build: BUILD, log: silentLogger, reload: async () => {} });
  const acceptEncodings: string[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/metrics') acceptEncodings.push(req.headers['accept-encoding'] ?? '');
    app(req, res);
  });
  let prometheus: PrometheusServer | undefined;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    prometheus = await startPrometheus({ targets: { [JOB]: `127.0.0.1:${port}` }, scrapeInterval: '1s' });
  });

  after(async () => {
    await prometheus?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('asks for gzip and ingests every sample of both members', async () => {
    const expected = parseExposition(await metrics.render());
    assert.ok(expected.length > 20, `the exposition has ${expected.length} samples`);
    const prom = prometheus!;
    await prom.waitFor(`up{job="${JOB}"}`, (result) => singleValue(result) === 1, 'the exporter is scraped');
    assert.ok(
      acceptEncodings.length > 0 && acceptEncodings.every((value) => /\bgzip\b/.test(value)),
      JSON.stringify(acceptEncodings),
    );
    assert.equal(singleValue(await prom.query(`scrape_samples_scraped{job="${JOB}"}`)), expected.length);
    // The first and last samples of the snapshot member, and one of the live member after it.
    assert.equal(singleValue(await prom.query('count(exposure_port_open)')), 3);
    assert.equal(singleValue(await prom.query('exposure_build_info{nmap_version="7.93"}')), 1);
    assert.equal(singleValue(await prom.query('exposure_scans_total{result="success"}')), 2);
  });
});

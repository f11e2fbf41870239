/**
 * HttpClient against a real HTTP(S) server on 127.0.0.1: whole answers of any status, and each way an
 * exchange can end without one (deadline, caller's abort, refused connection, certificate) as our own error.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient } from '../../src/openstack/session/http-client.ts';
import type { HttpClientOptions, HttpRequest } from '../../src/openstack/session/http-client.ts';
import {
  PROJECTS,
  RECORDED_TOKEN,
  ReplayServer,
  fixtureText,
  issueToken,
  rejectionOf,
  replayKeystone,
} from '../support/keystone-replay.ts';
import type { Route } from '../support/keystone-replay.ts';

const servers: ReplayServer[] = [];
const clients: HttpClient[] = [];

async function startServer(route: Route = replayKeystone, tls?: { key: string; cert: string }): Promise<ReplayServer> {
  const server = await ReplayServer.start(route, tls);
  servers.push(server);
  return server;
}

function openClient(options: Partial<HttpClientOptions> = {}): HttpClient {
  const client = new HttpClient({ timeoutMs: 5000, verify: true, ...options });
  clients.push(client);
  return client;
}

after(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all(servers.map((server) => server.stop()));
});

function get(server: ReplayServer, service: string, path: string, signal = new AbortController().signal): HttpRequest {
  return { method: 'GET', service, url: new URL(path, server.origin), headers: { accept: 'application/json' }, signal };
}

function postToken(server: ReplayServer): HttpRequest {
  return {
    method: 'POST',
    service: 'identity',
    url: new URL('/v3/auth/tokens', server.origin),
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: new AbortController().signal,
  };
}

/** Waits (briefly) until the server has received `count` requests, so an abort lands mid-flight. */
async function untilReceived(server: ReplayServer, count: number): Promise<void> {
  for (let tries = 0; server.received.length < count; tries += 1) {
    assert.ok(tries < 200, `the server received ${server.received.length} of ${count} requests`);
    await sleep(10);
  }
}

describe('HttpClient', () => {
  it('returns the status, headers and whole body of any answer, a refusal included', async () => {
    const server = await startServer(() => ({
      status: 404,
      headers: { 'x-openstack-request-id': 'req-1' },
      body: '{"error": {"message": "nope"}}',
    }));
    const answer = await openClient().exchange(get(server, 'network', '/v2.0/ports?limit=1'));
    assert.deepEqual(
      [answer.status, answer.headers['x-openstack-request-id'], answer.text],
      [404, 'req-1', '{"error": {"message": "nope"}}'],
    );
    assert.deepEqual(
      server.received.map((req) => `${req.method} ${req.url}`),
      ['GET /v2.0/ports?limit=1'],
    );
  });

  it('times out a server that never answers with OPENSTACK_TIMEOUT', async () => {
    const server = await startServer(() => 'hang');
    const err = await rejectionOf(
      openClient({ timeoutMs: 200 }).exchange(get(server, 'compute', '/v2.1/servers/detail')),
    );
    assert.deepEqual(
      [err.code, err.message],
      ['OPENSTACK_TIMEOUT', 'GET compute /v2.1/servers/detail: no complete answer within 0.2s'],
    );
  });

  it('reports a caller that aborts mid-flight as OPENSTACK_ABORTED, not as a timeout', async () => {
    const server = await startServer(() => 'hang');
    const controller = new AbortController();
    const started = performance.now();
    const pending = openClient({ timeoutMs: 5000 }).exchange(
      get(server, 'compute', '/v2.1/servers/detail?all_tenants=1', controller.signal),
    );
    await untilReceived(server, 1);
    controller.abort(new Error('cycle ended'));
    const err = await rejectionOf(pending);
    assert.deepEqual(
      [err.code, err.message, (err.cause as Error).message],
      ['OPENSTACK_ABORTED', 'GET compute /v2.1/servers/detail: cancelled', 'cycle ended'],
    );
    assert.ok(performance.now() - started < 4000, 'ended at the abort, not at the deadline');
  });

  it('sends nothing when the signal has already aborted', async () => {
    const server = await startServer();
    const err = await rejectionOf(
      openClient().exchange(get(server, 'identity', '/v3/projects', AbortSignal.abort(new Error('stopping')))),
    );
    assert.deepEqual(
      [err.code, err.message, (err.cause as Error).message],
      ['OPENSTACK_ABORTED', 'GET identity /v3/projects: cancelled', 'stopping'],
    );
    assert.equal(server.received.length, 0);
  });

  it('reports a refused connection as OPENSTACK_HTTP with the cause', async () => {
    const closed = await startServer();
    await closed.stop();
    const err = await rejectionOf(openClient({ timeoutMs: 2000 }).exchange(postToken(closed)));
    assert.equal(err.code, 'OPENSTACK_HTTP');
    assert.match(err.message, /^POST identity \/v3\/auth\/tokens: .*ECONNREFUSED/);
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  });

  it("passes a library's error message through the scrubber before quoting it", async () => {
    const closed = await startServer();
    await closed.stop();
    const err = await rejectionOf(
      openClient({ scrub: (text) => text.replaceAll('127.0.0.1', '[redacted]') }).exchange(postToken(closed)),
    );
    assert.match(err.message, /^POST identity \/v3\/auth\/tokens: .*\[redacted\]/);
    assert.ok(!err.message.includes('127.0.0.1'), err.message);
  });

  it('reports each exchange to onRequest with its service, and without a status when no answer came', async () => {
    const answering = await startServer();
    const hanging = await startServer(() => 'hang');
    const calls: [string, number | undefined][] = [];
    const durations: number[] = [];
    const client = openClient({
      timeoutMs: 100,
      onRequest: (service, seconds, status) => {
        calls.push([service, status]);
        durations.push(seconds);
      },
    });
    await client.exchange(get(answering, 'identity', '/v3/projects'));
    await rejectionOf(client.exchange(postToken(hanging)));
    assert.deepEqual(calls, [
      ['identity', 200],
      ['identity', undefined],
    ]);
    assert.ok(
      durations.every((seconds) => Number.isFinite(seconds) && seconds >= 0),
      String(durations),
    );
  });
});

describe('HttpClient over TLS', () => {
  const tls = { key: fixtureText('tls-key.pem'), cert: fixtureText('tls-cert.pem') };

  it('refuses a certificate it cannot verify', async () => {
    const server = await startServer(replayKeystone, tls);
    const err = await rejectionOf(openClient().exchange(postToken(server)));
    assert.equal(err.code, 'OPENSTACK_HTTP');
    assert.match(err.message, /^POST identity \/v3\/auth\/tokens: .*self[- ]signed certificate/);
    assert.equal(server.received.length, 0);
  });

  it('trusts the CA text it is given', async () => {
    const server = await startServer(replayKeystone, tls);
    const answer = await openClient({ caCertificates: tls.cert }).exchange(get(server, 'identity', '/v3/projects'));
    assert.deepEqual(JSON.parse(answer.text), PROJECTS);
  });

  it('skips verification when verify is false, ignoring any CA text', async () => {
    const server = await startServer((_req, srv) => issueToken(srv), tls);
    const answer = await openClient({ verify: false, caCertificates: 'not a certificate' }).exchange(postToken(server));
    assert.deepEqual([answer.status, answer.headers['x-subject-token']], [201, RECORDED_TOKEN]);
  });
});

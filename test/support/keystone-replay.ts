/**
 * A small HTTP(S) server on 127.0.0.1 that replays Keystone answers recorded from the lab cloud
 * (test/fixtures/openstack, see its README). Token answers get their catalog URLs rewritten to point at this
 * server, so every service (identity /v3, compute /v2.1, network /v2.0) is answered by it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ExporterError } from '../../src/errors.ts';

export function fixtureText(name: string): string {
  return readFileSync(new URL(`../fixtures/openstack/${name}`, import.meta.url), 'utf8');
}

/** The X-Subject-Token Keystone sent with the recorded project-scoped token (test/fixtures/openstack/keystone_token_password_project_scoped.json). */
export const RECORDED_TOKEN =
  'gAAAAABrCDGEPZVdqrWL6rDTdkwhrH2DJsuDgAHfKnAfZ7xmcnV3A_JwTWw1BLjeB6oKuFYU8kOmf5qUCHViPNIl3clvr4cUH6i7QZm8YzKyRYE9TQ0Fi_5E7TITxOp_JMOEqKjfZDicMvi6Mk5DOGcrFpUxVq2OcCSsb8C6WPliDz7MOouvxjk';
export const PROJECTS = JSON.parse(fixtureText('keystone_projects.json')) as unknown;
/** issued_at 2026-11-26T13:17:56Z, expires_at 24 h later, as recorded. */
export const ISSUED_AT_MS = Date.parse('2026-11-26T13:17:56Z');
export const DAY_MS = 24 * 3600 * 1000;

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export type Route = (req: Received, server: ReplayServer) => Reply | 'hang' | Promise<Reply>;

/** Loopback HTTP(S) server: records every request and answers through the test's route. */
export class ReplayServer {
  readonly received: Received[] = [];
  readonly #server: Server;
  route: Route;
  origin = '';
  issued = 0;

  private constructor(server: Server, route: Route) {
    this.#server = server;
    this.route = route;
  }

  static async start(route: Route, tls?: { key: string; cert: string }): Promise<ReplayServer> {
    let replay: ReplayServer | undefined;
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const received = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        replay!.received.push(received);
        void Promise.resolve(replay!.route(received, replay!)).then((reply) => {
          if (reply === 'hang') return;
          res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
          res.end(reply.body ?? '');
        });
      });
    };
    const server = tls ? createHttpsServer(tls, handle) : createHttpServer(handle);
    replay = new ReplayServer(server, route);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    replay.origin = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return replay;
  }

  get posts(): Received[] {
    return this.received.filter((req) => req.method === 'POST');
  }

  get gets(): Received[] {
    return this.received.filter((req) => req.method === 'GET');
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A recorded token answer, its catalog pointed at this server. The first token carries the recorded
 * X-Subject-Token; later ones get a suffix so a test can tell them apart.
 */
export function issueToken(
  server: ReplayServer,
  options: { file?: string; edit?: (token: Record<string, unknown>) => void } = {},
): Reply {
  server.issued += 1;
  const text = fixtureText(options.file ?? 'keystone_token_password_project_scoped.json').replaceAll(
    /http:\/\/127\.0\.0\.1:\d+/g,
    server.origin,
  );
  const body = JSON.parse(text) as { token: Record<string, unknown> };
  options.edit?.(body.token);
  const value = server.issued === 1 ? RECORDED_TOKEN : `${RECORDED_TOKEN}-${server.issued}`;
  return { status: 201, headers: { 'x-subject-token': value }, body: JSON.stringify(body) };
}

/** Token requests get a token; GET /v3/projects gets the recorded project list. */
export const replayKeystone: Route = (req, server) => {
  if (req.method === 'POST' && req.url === '/v3/auth/tokens') return issueToken(server);
  if (req.method === 'GET' && req.url.startsWith('/v3/projects'))
    return { status: 200, body: fixtureText('keystone_projects.json') };
  return {
    status: 404,
    body: JSON.stringify({ error: { code: 404, message: 'The resource could not be found.', title: 'Not Found' } }),
  };
};

/** The rejection of a promise, which must reject with an ExporterError. */
export async function rejectionOf(promise: Promise<unknown>): Promise<ExporterError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ExporterError, `expected an ExporterError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

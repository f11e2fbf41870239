/**
 * A fake OpenStack on 127.0.0.1:0 that replays the lab cloud's recorded answers (test/fixtures/openstack) and
 * can be told to fail the way a real cloud does: refuse (401, 403), break (500), answer too slowly, drop the
 * connection, or revoke the token in the middle of a read. Keystone, Nova and Neutron share its one origin: the
 * recorded token's catalog is rewritten to point at it. The recordings' public addresses (127.42.0.N,
 * 127.43.0.N) are loopback already, so a test can open listeners on them and scan them for real.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const RECORDINGS = new URL('../fixtures/openstack/', import.meta.url);

const RECORDED_LISTINGS: Readonly<Record<string, string>> = {
  '/v2.1/servers/detail': 'nova_servers_detail_all_tenants.json',
  '/v2.0/floatingips': 'neutron_floatingips.json',
  '/v2.0/ports': 'neutron_ports.json',
  '/v2.0/networks': 'neutron_networks.json',
  '/v2.0/routers': 'neutron_routers.json',
  '/v2.0/security-groups': 'neutron_security_groups.json',
  '/v3/projects': 'keystone_projects.json',
  '/v3/users': 'keystone_users.json',
};

/**
 * Error bodies in the shape each service writes them (none were recorded): Keystone `{"error": …}`, Nova
 * `{"forbidden"|"computeFault": …}`.
 */
const ERROR_BODIES: Readonly<Record<401 | 403 | 500, string>> = {
  401: JSON.stringify({
    error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' },
  }),
  403: JSON.stringify({
    forbidden: {
      code: 403,
      message: "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.",
    },
  }),
  500: JSON.stringify({
    computeFault: { code: 500, message: 'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/' },
  }),
};

export type OpenStackFault =
  | { readonly kind: 'healthy' }
  /** Every request, token requests included, gets this status. */
  | { readonly kind: 'status'; readonly status: 401 | 403 | 500 }
  /** Every answer comes this late. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Every connection is closed without an answer. */
  | { readonly kind: 'reset' }
  /** The token that reads the next Nova listing is revoked right after it: the rest of that read gets 401. */
  | { readonly kind: 'revoke-token-after-servers' };

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number | 'reset';
}

export interface FakeOpenStack {
  readonly origin: string;
  setFault(fault: OpenStackFault): void;
  /** Every request so far, in order. */
  readonly requests: readonly SeenRequest[];
  /** A clouds.yaml naming this cloud `fake`, with password credentials. */
  cloudsYaml(): string;
  stop(): Promise<void>;
}

export async function startFakeOpenStack(): Promise<FakeOpenStack> {
  let origin = '';
  let fault: OpenStackFault = { kind: 'healthy' };
  let issued = 0;
  const validTokens = new Set<string>();
  const requests: SeenRequest[] = [];

  const answer = (req: IncomingMessage, res: ServerResponse, path: string): number => {
    const reply = (status: number, body: string, headers: Record<string, string> = {}): number => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
      return status;
    };
    if (fault.kind === 'status') return reply(fault.status, ERROR_BODIES[fault.status]);
    if (req.method === 'POST' && path === '/v3/auth/tokens') {
      issued += 1;
      const token = `fake-token-${issued}`;
      validTokens.add(token);
      return reply(201, renderToken(origin), { 'x-subject-token': token });
    }
    const file = RECORDED_LISTINGS[path];
    if (req.method !== 'GET' || !file)
      return reply(
        404,
        JSON.stringify({ error: { code: 404, message: `nothing recorded for ${req.method} ${path}` } }),
      );
    const token = String(req.headers['x-auth-token'] ?? '');
    if (!validTokens.has(token)) return reply(401, ERROR_BODIES[401]);
    if (fault.kind === 'revoke-token-after-servers' && path === '/v2.1/servers/detail') {
      validTokens.delete(token);
      fault = { kind: 'healthy' };
    }
    return reply(200, readRecording(file, origin));
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const method = req.method ?? '';
    req.resume();
    req.on('end', () => {
      if (fault.kind === 'reset') {
        requests.push({ method, path, status: 'reset' });
        req.socket.destroy();
        return;
      }
      const delayMs = fault.kind === 'slow' ? fault.delayMs : 0;
      setTimeout(() => {
        if (res.destroyed) return;
        requests.push({ method, path, status: answer(req, res, path) });
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    setFault(next) {
      fault = next;
    },
    requests,
    cloudsYaml: () => `clouds:
  fake:
    auth_type: password
    auth:
      auth_url: ${origin}/v3
      username: admin
      password: not-a-secret
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A recorded body with the lab's endpoints moved to this server. The edits happen here; the files stay as recorded. */
function readRecording(file: string, origin: string): string {
  return readFileSync(new URL(file, RECORDINGS), 'utf8').replaceAll(/http:\/\/127\.0\.0\.1:\d+/g, origin);
}

/** The recorded token, valid for an hour from now (the recording has long expired), its catalog pointing here. */
function renderToken(origin: string): string {
  const body = JSON.parse(readRecording('keystone_token_password_project_scoped.json', origin)) as {
    token: Record<string, unknown>;
  };
  const now = Date.now();
  body.token['issued_at'] = new Date(now).toISOString();
  body.token['expires_at'] = new Date(now + 3_600_000).toISOString();
  return JSON.stringify(body);
}

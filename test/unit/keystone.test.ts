/**
 * KeystoneSession against a small HTTP server on loopback that replays Keystone answers recorded from the lab
 * cloud (test/support/keystone-replay.ts): token reuse and renewal, the retry on 401, refusals and scrubbing.
 * The pure parts have their own tests (keystone-token, service-catalog, url-guard), and so has the transport
 * (http-client).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { CloudAuth, CloudCredentials } from '../../src/openstack/credentials/cloud-credentials.ts';
import { KeystoneSession } from '../../src/openstack/session/keystone.ts';
import type { KeystoneSessionOptions } from '../../src/openstack/session/keystone.ts';
import { OpenStackHttpError } from '../../src/errors.ts';
import {
  DAY_MS,
  ISSUED_AT_MS,
  PROJECTS,
  RECORDED_TOKEN,
  ReplayServer,
  fixtureText,
  issueToken,
  rejectionOf,
  replayKeystone,
} from '../support/keystone-replay.ts';
import type { Route } from '../support/keystone-replay.ts';

const PASSWORD = 'hunter2-S3CRET';
const APP_SECRET = 'appcred-S3CRET';

const PASSWORD_AUTH: CloudAuth = {
  type: 'password',
  user: { name: 'admin', domain: { name: 'Default' } },
  password: PASSWORD,
  scope: { project: { name: 'admin', domain: { name: 'Default' } } },
};

function credentialsFor(server: ReplayServer, overrides: Partial<CloudCredentials> = {}): CloudCredentials {
  return {
    source: { kind: 'environment' },
    authUrl: `${server.origin}/v3`,
    auth: PASSWORD_AUTH,
    regionName: undefined,
    interface: 'public',
    verify: true,
    cacert: undefined,
    origins: {},
    ...overrides,
  };
}

const servers: ReplayServer[] = [];
const sessions: KeystoneSession[] = [];

async function startServer(route: Route = replayKeystone, tls?: { key: string; cert: string }): Promise<ReplayServer> {
  const server = await ReplayServer.start(route, tls);
  servers.push(server);
  return server;
}

function openSession(
  server: ReplayServer,
  options: Partial<Omit<KeystoneSessionOptions, 'credentials'>> & { credentials?: Partial<CloudCredentials> } = {},
): KeystoneSession {
  const { credentials, ...rest } = options;
  const session = new KeystoneSession({
    requestTimeoutMs: 5000,
    ...rest,
    credentials: credentialsFor(server, credentials),
  });
  sessions.push(session);
  return session;
}

after(async () => {
  await Promise.all(sessions.map((session) => session.close()));
  await Promise.all(servers.map((server) => server.stop()));
});

const signal = (): AbortSignal => new AbortController().signal;

describe('KeystoneSession', () => {
  it('issues a project-scoped password token with the body Keystone v3 expects and sends it as X-Auth-Token', async () => {
    const server = await startServer();
    const session = openSession(server);
    const projects = await session.get('identity', 'projects', { signal: signal() });
    assert.deepEqual(projects, PROJECTS);
    assert.deepEqual(
      server.received.map((req) => `${req.method} ${req.url}`),
      ['POST /v3/auth/tokens', 'GET /v3/projects'],
    );
    assert.deepEqual(JSON.parse(server.posts[0]!.body), {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { name: 'Default' }, password: PASSWORD } },
        },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    });
    assert.equal(server.posts[0]!.headers['content-type'], 'application/json');
    assert.equal(server.gets[0]!.headers['x-auth-token'], RECORDED_TOKEN);
  });

  it('returns the token with its expiry and catalog', async () => {
    const server = await startServer();
    const token = await openSession(server).token(signal());
    assert.equal(token.value, RECORDED_TOKEN);
    assert.equal(token.expiresAt.toISOString(), '2026-11-27T13:17:56.000Z');
    assert.deepEqual(
      token.catalog.map((service) => service.type),
      ['identity', 'image', 'placement', 'compute', 'network'],
    );
    assert.deepEqual(token.catalog.find((service) => service.type === 'compute')?.endpoints[0], {
      interface: 'public',
      region: 'RegionOne',
      url: `${server.origin}/v2.1`,
    });
  });

  const bodies: { name: string; auth: CloudAuth; reply: string; expected: unknown }[] = [
    {
      name: 'an application credential by id, without a scope',
      auth: { type: 'v3applicationcredential', credential: { id: 'ac-1' }, secret: APP_SECRET },
      reply: 'keystone_token_application_credential.json',
      expected: {
        auth: {
          identity: { methods: ['application_credential'], application_credential: { id: 'ac-1', secret: APP_SECRET } },
        },
      },
    },
    {
      name: 'an application credential by name with its user',
      auth: {
        type: 'v3applicationcredential',
        credential: { name: 'oslab-exporter', user: { name: 'admin', domain: { id: 'default' } } },
        secret: APP_SECRET,
      },
      reply: 'keystone_token_application_credential.json',
      expected: {
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: {
              name: 'oslab-exporter',
              user: { name: 'admin', domain: { id: 'default' } },
              secret: APP_SECRET,
            },
          },
        },
      },
    },
    {
      name: 'a system-scoped user by id',
      auth: { type: 'password', user: { id: 'u-rita' }, password: PASSWORD, scope: { system: 'all' } },
      reply: 'keystone_token_password_system_scoped_reader.json',
      expected: {
        auth: {
          identity: { methods: ['password'], password: { user: { id: 'u-rita', password: PASSWORD } } },
          scope: { system: { all: true } },
        },
      },
    },
    {
      name: 'a project by id',
      auth: {
        type: 'password',
        user: { name: 'admin', domain: { id: 'default' } },
        password: PASSWORD,
        scope: { project: { id: 'p-1' } },
      },
      reply: 'keystone_token_password_project_scoped.json',
      expected: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: PASSWORD } },
          },
          scope: { project: { id: 'p-1' } },
        },
      },
    },
  ];
  for (const { name, auth, reply, expected } of bodies) {
    it(`sends the token request body for ${name}`, async () => {
      const server = await startServer((_req, srv) => issueToken(srv, { file: reply }));
      const token = await openSession(server, { credentials: { auth } }).token(signal());
      assert.equal(token.value, RECORDED_TOKEN);
      assert.deepEqual(JSON.parse(server.posts[0]!.body), expected);
    });
  }

  it('reuses the token across requests and concurrent callers share one token request', async () => {
    const server = await startServer();
    const session = openSession(server);
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map(() => session.get('identity', 'projects', { signal: signal() })),
    );
    await session.get('identity', '/projects', { signal: signal() });
    assert.deepEqual(answers, [PROJECTS, PROJECTS, PROJECTS, PROJECTS, PROJECTS]);
    assert.equal(server.posts.length, 1);
    assert.deepEqual(new Set(server.gets.map((req) => req.headers['x-auth-token'])), new Set([RECORDED_TOKEN]));
    assert.equal(server.gets.length, 6);
  });

  it('renews a day-long token 60 s before it expires, measured on the injected clock', async () => {
    const server = await startServer();
    let now = ISSUED_AT_MS + 5 * DAY_MS; // any local time: the lifetime is laid onto our clock
    const start = now;
    const session = openSession(server, { clock: () => now });
    const tokens: string[] = [];
    for (const offset of [0, DAY_MS - 61_000, DAY_MS - 59_000, DAY_MS - 58_000]) {
      now = start + offset;
      tokens.push((await session.token(signal())).value);
    }
    assert.deepEqual(tokens, [RECORDED_TOKEN, RECORDED_TOKEN, `${RECORDED_TOKEN}-2`, `${RECORDED_TOKEN}-2`]);
    assert.equal(server.posts.length, 2);
  });

  it('renews a short-lived token a tenth of its lifetime before it expires', async () => {
    const fiveMinutes = (token: Record<string, unknown>): void => {
      token['expires_at'] = '2026-11-26T13:22:56.000000Z';
    };
    const server = await startServer((_req, srv) => issueToken(srv, { edit: fiveMinutes }));
    let now = 1_000_000;
    const session = openSession(server, { clock: () => now });
    const seen: number[] = [];
    for (const at of [1_000_000, 1_000_000 + 269_000, 1_000_000 + 271_000]) {
      now = at;
      await session.token(signal());
      seen.push(server.posts.length);
    }
    assert.deepEqual(seen, [1, 1, 2]);
  });

  it('issues a new token once on a 401 and retries the request with it', async () => {
    const server = await startServer((req, srv) => {
      if (req.method === 'POST') return issueToken(srv);
      if (req.headers['x-auth-token'] === RECORDED_TOKEN)
        return {
          status: 401,
          body: '{"error": {"code": 401, "message": "The request you have made requires authentication."}}',
        };
      return { status: 200, body: fixtureText('keystone_projects.json') };
    });
    const session = openSession(server);
    assert.deepEqual(await session.get('identity', 'projects', { signal: signal() }), PROJECTS);
    assert.deepEqual(
      server.received.map(
        (req) =>
          `${req.method} ${req.url} ${req.headers['x-auth-token'] === undefined ? '-' : req.headers['x-auth-token'].slice(-2)}`,
      ),
      ['POST /v3/auth/tokens -', 'GET /v3/projects jk', 'POST /v3/auth/tokens -', 'GET /v3/projects -2'],
    );
    // The new token is kept: the next request needs no token request.
    await session.get('identity', 'projects', { signal: signal() });
    assert.equal(server.posts.length, 2);
  });

  it('fails with OPENSTACK_AUTH when the new token gets a 401 as well', async () => {
    const server = await startServer((req, srv) => {
      if (req.method === 'POST') return issueToken(srv);
      return {
        status: 401,
        body: `{"error": {"code": 401, "message": "token ${req.headers['x-auth-token']} is not valid"}}`,
      };
    });
    const err = await rejectionOf(openSession(server).get('identity', 'projects?name=admin', { signal: signal() }));
    assert.ok(err instanceof OpenStackHttpError);
    assert.deepEqual(
      [err.code, err.status, err.message],
      [
        'OPENSTACK_AUTH',
        401,
        'GET identity /v3/projects returned 401 with a newly issued token too: token [redacted] is not valid',
      ],
    );
    assert.deepEqual([server.posts.length, server.gets.length], [2, 2]);
  });

  it('gives a 403 its status, so the inventory can fall back, without a new token', async () => {
    const server = await startServer((req, srv) => {
      if (req.method === 'POST') return issueToken(srv);
      return {
        status: 403,
        body: JSON.stringify({
          forbidden: {
            code: 403,
            message: "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.",
          },
        }),
      };
    });
    const err = await rejectionOf(
      openSession(server).get('compute', 'servers/detail?all_tenants=1', { signal: signal() }),
    );
    assert.ok(err instanceof OpenStackHttpError);
    assert.deepEqual(
      [err.code, err.status, err.message],
      [
        'OPENSTACK_HTTP',
        403,
        "GET compute /v2.1/servers/detail returned 403: Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.",
      ],
    );
    assert.equal(server.posts.length, 1);
  });

  it('names method, service, path and status of other failures, never the query', async () => {
    const server = await startServer((req, srv) =>
      req.method === 'POST' ? issueToken(srv) : { status: 503, body: '<html>Service Unavailable</html>' },
    );
    const err = await rejectionOf(
      openSession(server).get('network', '/v2.0/ports?device_owner=compute:nova&marker=abc', { signal: signal() }),
    );
    assert.ok(err instanceof OpenStackHttpError);
    assert.deepEqual(
      [err.code, err.status, err.message],
      ['OPENSTACK_HTTP', 503, 'GET network /v2.0/ports returned 503'],
    );
    assert.equal(server.gets[0]!.url, '/v2.0/ports?device_owner=compute:nova&marker=abc');
  });

  it('passes extra headers but always sends its own token', async () => {
    const server = await startServer((req, srv) =>
      req.method === 'POST' ? issueToken(srv) : { status: 200, body: '{"servers": []}' },
    );
    const answer = await openSession(server).get('compute', 'servers/detail', {
      signal: signal(),
      headers: { 'OpenStack-API-Version': 'compute 2.93', 'X-Auth-Token': 'forged' },
    });
    assert.deepEqual(answer, { servers: [] });
    assert.deepEqual(
      [server.gets[0]!.headers['openstack-api-version'], server.gets[0]!.headers['x-auth-token']],
      ['compute 2.93', RECORDED_TOKEN],
    );
  });

  it('follows an absolute link on the endpoint origin and refuses one elsewhere, keeping the token home', async () => {
    const server = await startServer((req, srv) =>
      req.method === 'POST' ? issueToken(srv) : { status: 200, body: '{"servers": []}' },
    );
    const session = openSession(server);
    assert.deepEqual(
      await session.get('compute', `${server.origin}/v2.1/servers/detail?marker=x`, { signal: signal() }),
      { servers: [] },
    );
    const err = await rejectionOf(
      session.get('compute', 'http://203.0.113.9:8774/v2.1/servers/detail?marker=y', { signal: signal() }),
    );
    assert.deepEqual(
      [err.code, err.message],
      [
        'OPENSTACK_HTTP',
        `GET compute http://203.0.113.9:8774/v2.1/servers/detail: refusing a URL outside the compute endpoint ${server.origin} (the token would go with it)`,
      ],
    );
    assert.deepEqual(
      server.gets.map((req) => req.url),
      ['/v2.1/servers/detail?marker=x'],
    );
  });

  it('times out a token request that never gets an answer', async () => {
    const server = await startServer(() => 'hang');
    const err = await rejectionOf(openSession(server, { requestTimeoutMs: 200 }).token(signal()));
    assert.deepEqual(
      [err.code, err.message],
      ['OPENSTACK_TIMEOUT', 'POST identity /v3/auth/tokens: no complete answer within 0.2s'],
    );
  });

  it("stops when the caller's signal aborts, as OPENSTACK_ABORTED: the caller gave up, no deadline passed", async () => {
    const server = await startServer((req, srv) => (req.method === 'POST' ? issueToken(srv) : 'hang'));
    const session = openSession(server);
    await session.token(signal());
    const controller = new AbortController();
    const pending = session.get('compute', 'servers/detail', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cycle ended')), 50);
    const err = await rejectionOf(pending);
    assert.deepEqual(
      [err.code, err.message, (err.cause as Error).message],
      ['OPENSTACK_ABORTED', 'GET compute /v2.1/servers/detail: cancelled', 'cycle ended'],
    );
  });

  it('lets one caller give up waiting for a shared token while the others still get it', async () => {
    let answerToken: (() => void) | undefined;
    const server = await startServer((req, srv) =>
      req.method === 'POST'
        ? new Promise((resolve) => (answerToken = () => resolve(issueToken(srv))))
        : { status: 200, body: '{}' },
    );
    const session = openSession(server);
    const controller = new AbortController();
    const leaving = session.token(controller.signal);
    const staying = session.token(signal());
    while (server.posts.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error('cycle ended'));
    const err = await rejectionOf(leaving);
    answerToken!();
    assert.deepEqual(
      [err.code, err.message, (err.cause as Error).message],
      ['OPENSTACK_ABORTED', 'waiting for a Keystone token: cancelled', 'cycle ended'],
    );
    assert.equal((await staying).value, RECORDED_TOKEN);
    assert.equal(server.posts.length, 1);
  });

  it('reports refused credentials as OPENSTACK_AUTH, scrubbing a password the server echoes', async () => {
    const server = await startServer((req) => ({
      status: 401,
      body: JSON.stringify({
        error: {
          code: 401,
          message: `password ${JSON.parse(req.body).auth.identity.password.user.password} is wrong`,
          title: 'Unauthorized',
        },
      }),
    }));
    const err = await rejectionOf(openSession(server).token(signal()));
    assert.ok(err instanceof OpenStackHttpError);
    assert.deepEqual(
      [err.code, err.status, err.message],
      [
        'OPENSTACK_AUTH',
        401,
        'Keystone refused the credentials: POST identity /v3/auth/tokens returned 401: password [redacted] is wrong',
      ],
    );
  });

  it('scrubs an application credential secret the server echoes', async () => {
    const server = await startServer((req) => ({
      status: 500,
      body: JSON.stringify({ error: { message: `cannot check ${req.body}` } }),
    }));
    const auth: CloudAuth = { type: 'v3applicationcredential', credential: { id: 'ac-1' }, secret: APP_SECRET };
    const err = await rejectionOf(openSession(server, { credentials: { auth } }).token(signal()));
    assert.deepEqual([err.code, (err as OpenStackHttpError).status], ['OPENSTACK_HTTP', 500]);
    assert.ok(err.message.includes('[redacted]'), err.message);
    assert.ok(!err.message.includes(APP_SECRET), err.message);
  });

  it('refuses a token answer without X-Subject-Token or without a catalog', async () => {
    const noHeader = await startServer((_req, srv) => ({ ...issueToken(srv), headers: {} }));
    const noCatalog = await startServer((_req, srv) => issueToken(srv, { edit: (token) => delete token['catalog'] }));
    const messages = await Promise.all(
      [noHeader, noCatalog].map(async (server) => {
        const err = await rejectionOf(openSession(server).token(signal()));
        return `${err.code} ${err.message}`;
      }),
    );
    assert.deepEqual(messages, [
      'OPENSTACK_AUTH POST identity /v3/auth/tokens returned 201 without an X-Subject-Token header',
      'OPENSTACK_AUTH POST identity /v3/auth/tokens: the token has no service catalog (is it scoped to a project or the system?)',
    ]);
  });

  it('finds endpoints in the catalog by region and interface', async () => {
    const twoRegions = (token: Record<string, unknown>): void => {
      const compute = (token['catalog'] as { type: string; endpoints: unknown[] }[]).find(
        (service) => service.type === 'compute',
      )!;
      compute.endpoints.push({
        id: 'x',
        interface: 'internal',
        region_id: 'RegionTwo',
        region: 'RegionTwo',
        url: 'http://nova.region-two:8774/v2.1',
      });
    };
    const server = await startServer((_req, srv) => issueToken(srv, { edit: twoRegions }));
    const lookups: [string | undefined, 'public' | 'internal' | 'admin'][] = [
      [undefined, 'public'],
      ['RegionOne', 'internal'],
      ['RegionTwo', 'internal'],
    ];
    const urls = await Promise.all(
      lookups.map(([regionName, iface]) =>
        openSession(server, { credentials: { regionName, interface: iface } }).endpoint('compute', signal()),
      ),
    );
    assert.deepEqual(urls, [`${server.origin}/v2.1`, `${server.origin}/v2.1`, 'http://nova.region-two:8774/v2.1']);
    assert.equal(server.posts.length, 3);
  });

  it('names service type, region and interface when the catalog has no such endpoint', async () => {
    const server = await startServer();
    const session = openSession(server, { credentials: { regionName: 'RegionTwo', interface: 'public' } });
    const missingRegion = await rejectionOf(session.endpoint('network', signal()));
    const missingType = await rejectionOf(session.get('load-balancer', 'v2/lbaas/loadbalancers', { signal: signal() }));
    assert.deepEqual(
      [missingRegion.code, missingRegion.message, missingType.code, missingType.message],
      [
        'OPENSTACK_AUTH',
        "the token's catalog has no network endpoint for region RegionTwo and interface public (it has: RegionOne public, RegionOne internal, RegionOne admin)",
        'OPENSTACK_AUTH',
        "the token's catalog has no load-balancer service (it has: identity, image, placement, compute, network)",
      ],
    );
  });

  it('reports each exchange to onRequest with its service and status', async () => {
    const server = await startServer((req, srv) => {
      if (req.method === 'POST') return issueToken(srv);
      return req.url.startsWith('/v2.0')
        ? { status: 404, body: '{}' }
        : { status: 200, body: fixtureText('keystone_projects.json') };
    });
    const calls: [string, number | undefined][] = [];
    const durations: number[] = [];
    const session = openSession(server, {
      onRequest: (service, seconds, status) => {
        calls.push([service, status]);
        durations.push(seconds);
      },
    });
    await session.get('identity', 'projects', { signal: signal() });
    await rejectionOf(session.get('network', '/v2.0/floatingips', { signal: signal() }));
    assert.deepEqual(calls, [
      ['identity', 201],
      ['identity', 200],
      ['network', 404],
    ]);
    assert.ok(
      durations.every((seconds) => Number.isFinite(seconds) && seconds >= 0),
      String(durations),
    );
  });
});

describe('KeystoneSession over TLS', () => {
  const tls = { key: fixtureText('tls-key.pem'), cert: fixtureText('tls-cert.pem') };

  it("hands the CA text and the credentials' verify to its connections", async () => {
    const server = await startServer(replayKeystone, tls);
    const token = await openSession(server, { credentials: { verify: false } }).token(signal());
    const projects = await openSession(server, { caCertificates: tls.cert }).get('identity', 'projects', {
      signal: signal(),
    });
    const refused = await rejectionOf(openSession(server).token(signal()));
    assert.deepEqual(projects, PROJECTS);
    assert.equal(token.value, RECORDED_TOKEN);
    assert.match(refused.message, /^POST identity \/v3\/auth\/tokens: .*self[- ]signed certificate/);
  });
});

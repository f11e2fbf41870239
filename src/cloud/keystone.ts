/**
 * Keystone v3 for the inventory: issues a token from resolved credentials, keeps it until shortly before it
 * expires, finds endpoints in its catalog and makes authenticated JSON GETs. The only module that speaks HTTP to
 * OpenStack, so undici's errors end here: callers see ExporterError (OPENSTACK_AUTH, OPENSTACK_HTTP,
 * OPENSTACK_TIMEOUT) and nothing else. Tokens, passwords and secrets never enter a message: they are left out
 * where we write messages and scrubbed from whatever a server writes back.
 */
import { Agent, errors as undiciErrors, request } from 'undici';
import type { OpenStackInterface } from '../config/schema.ts';
import { ExporterError } from '../errors.ts';
import type { CloudAuth, CloudCredentials } from './clouds-config.ts';

export interface KeystoneSessionOptions {
  readonly credentials: CloudCredentials;
  /** The deadline of each HTTP exchange, token requests included. */
  readonly requestTimeoutMs: number;
  /**
   * The PEM text of `credentials.cacert`, read by the caller. It replaces the system CAs, as the CA bundle does
   * for openstacksdk (requests' `verify=path`). Ignored when `credentials.verify` is false.
   */
  readonly caCertificates?: string;
  /** Milliseconds since the epoch; decides when the token is renewed. */
  readonly clock?: () => number;
  /**
   * Called once per HTTP exchange (token requests under `identity`), so the caller can keep a request-duration
   * histogram without this module touching metrics. `status` is undefined when no response arrived.
   */
  readonly onRequest?: (service: string, seconds: number, status: number | undefined) => void;
}

export interface CatalogEndpoint {
  readonly interface: string;
  readonly region: string | undefined;
  readonly url: string;
}

export interface CatalogService {
  readonly type: string;
  readonly name: string | undefined;
  readonly endpoints: readonly CatalogEndpoint[];
}

/** An issued token. `value` is a credential: pass it on, never log it. */
export interface KeystoneToken {
  readonly value: string;
  readonly expiresAt: Date;
  readonly catalog: readonly CatalogService[];
}

export interface GetOptions {
  readonly signal: AbortSignal;
  /** Extra request headers, e.g. `OpenStack-API-Version: compute 2.93`. X-Auth-Token is always ours. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** An answer with an HTTP status OpenStack refused the request with; `status` lets callers tell 403 apart. */
export class OpenStackHttpError extends ExporterError {
  readonly status: number;

  constructor(options: { code: 'OPENSTACK_AUTH' | 'OPENSTACK_HTTP'; message: string; status: number }) {
    super(options.code, options.message);
    this.name = 'OpenStackHttpError';
    this.status = options.status;
  }
}

/**
 * A token is renewed 60 s before it expires, or a tenth of its lifetime before for tokens shorter than ten
 * minutes, so a short-lived token is still used for most of its life and no request leaves with one about to die.
 */
const RENEW_MARGIN_MS = 60_000;
const RENEW_MARGIN_SHARE = 0.1;
/** Enough for any server listing; a runaway body is refused rather than held in memory. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const MAX_DETAIL_CHARS = 300;
const REDACTED = '[redacted]';

interface HeldToken {
  readonly token: KeystoneToken;
  /** On our clock: when to issue a new one. */
  readonly renewAtMs: number;
}

interface Exchange {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

interface ExchangeRequest {
  readonly method: 'GET' | 'POST';
  readonly service: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

export class KeystoneSession {
  readonly #credentials: CloudCredentials;
  readonly #timeoutMs: number;
  readonly #clock: () => number;
  readonly #onRequest: KeystoneSessionOptions['onRequest'];
  readonly #agent: Agent;
  /** Aborts a shared token request when the session closes; no single caller owns it. */
  readonly #lifetime = new AbortController();
  /** Every token value ever issued here, to scrub from messages a server might echo. */
  readonly #issuedValues = new Set<string>();
  #held: HeldToken | undefined;
  #pending: Promise<HeldToken> | undefined;

  constructor(options: KeystoneSessionOptions) {
    this.#credentials = options.credentials;
    this.#timeoutMs = options.requestTimeoutMs;
    this.#clock = options.clock ?? Date.now;
    this.#onRequest = options.onRequest;
    const verify = options.credentials.verify;
    this.#agent = new Agent({
      connect: {
        rejectUnauthorized: verify,
        ...(verify && options.caCertificates !== undefined ? { ca: options.caCertificates } : {}),
        timeout: options.requestTimeoutMs,
      },
      // Backstops only: each exchange's own deadline (an AbortSignal) normally ends it first.
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
      maxResponseSize: MAX_RESPONSE_BYTES,
    });
  }

  /** A valid token, issued when there is none or it is about to expire; concurrent callers share one request. */
  async token(signal: AbortSignal): Promise<KeystoneToken> {
    const held = this.#held;
    if (held && this.#clock() < held.renewAtMs) return held.token;
    if (!this.#pending) {
      const pending = this.#issue();
      this.#pending = pending;
      const clear = (): void => {
        if (this.#pending === pending) this.#pending = undefined;
      };
      pending.then(clear, clear);
    }
    return (await waitFor(this.#pending, signal, 'waiting for a Keystone token')).token;
  }

  /** The URL of a service from the token's catalog, for the configured region (if any) and interface. */
  async endpoint(serviceType: string, signal: AbortSignal): Promise<string> {
    const token = await this.token(signal);
    return findEndpoint(token.catalog, {
      serviceType,
      regionName: this.#credentials.regionName,
      interface: this.#credentials.interface,
    });
  }

  /**
   * GETs JSON from a service. `pathOrUrl` is relative to the service's catalog URL (`servers/detail` on
   * `…/v2.1`), or an absolute URL on that endpoint's origin, such as a pagination link. A 401 gets one new token
   * and one retry: a token can be revoked or expire early (a Keystone restart with new fernet keys).
   */
  async get(serviceType: string, pathOrUrl: string, options: GetOptions): Promise<unknown> {
    const first = await this.token(options.signal);
    const answer = await this.#getWith(first, serviceType, pathOrUrl, options);
    if (answer.exchange.status !== 401) return this.#readJson(answer.exchange, answer.what);
    this.#forget(first);
    const second = await this.token(options.signal);
    const retry = await this.#getWith(second, serviceType, pathOrUrl, options);
    if (retry.exchange.status === 401) {
      throw new OpenStackHttpError({
        code: 'OPENSTACK_AUTH',
        status: 401,
        message: `${retry.what} returned 401 with a newly issued token too${this.#detailOf(retry.exchange)}`,
      });
    }
    return this.#readJson(retry.exchange, retry.what);
  }

  /** Lets in-flight requests finish (each has its deadline), then frees the connections. */
  async close(): Promise<void> {
    this.#lifetime.abort();
    await this.#agent.close();
  }

  async #getWith(
    token: KeystoneToken,
    serviceType: string,
    pathOrUrl: string,
    options: GetOptions,
  ): Promise<{ exchange: Exchange; what: string }> {
    const base = findEndpoint(token.catalog, {
      serviceType,
      regionName: this.#credentials.regionName,
      interface: this.#credentials.interface,
    });
    const url = resolveRequestUrl(base, pathOrUrl, serviceType);
    const exchange = await this.#exchange({
      method: 'GET',
      service: serviceType,
      url,
      headers: { ...lowerCaseKeys(options.headers ?? {}), accept: 'application/json', 'x-auth-token': token.value },
      signal: options.signal,
    });
    return { exchange, what: describeRequest('GET', serviceType, url) };
  }

  #readJson(exchange: Exchange, what: string): unknown {
    if (exchange.status < 200 || exchange.status > 299) {
      throw new OpenStackHttpError({
        code: 'OPENSTACK_HTTP',
        status: exchange.status,
        message: `${what} returned ${exchange.status}${this.#detailOf(exchange)}`,
      });
    }
    if (exchange.text.trim() === '') return null;
    try {
      return JSON.parse(exchange.text) as unknown;
    } catch {
      throw new ExporterError('OPENSTACK_HTTP', `${what} returned ${exchange.status} with a body that is not JSON`);
    }
  }

  /** Drops a token a service refused, unless a newer one has replaced it meanwhile. */
  #forget(token: KeystoneToken): void {
    if (this.#held?.token === token) this.#held = undefined;
  }

  async #issue(): Promise<HeldToken> {
    const startedAtMs = this.#clock();
    const url = buildTokensUrl(this.#credentials.authUrl);
    const what = describeRequest('POST', 'identity', url);
    const exchange = await this.#exchange({
      method: 'POST',
      service: 'identity',
      url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(buildTokenRequest(this.#credentials.auth)),
      signal: this.#lifetime.signal,
    });
    if (exchange.status !== 201 && exchange.status !== 200) {
      // 400, 401 and 403 mean Keystone refused these credentials or this scope: retrying will not help.
      const refused = exchange.status === 400 || exchange.status === 401 || exchange.status === 403;
      throw new OpenStackHttpError({
        code: refused ? 'OPENSTACK_AUTH' : 'OPENSTACK_HTTP',
        status: exchange.status,
        message: `${refused ? 'Keystone refused the credentials: ' : ''}${what} returned ${exchange.status}${this.#detailOf(exchange)}`,
      });
    }
    const value = exchange.headers['x-subject-token'];
    if (typeof value !== 'string' || value === '') {
      throw new ExporterError('OPENSTACK_AUTH', `${what} returned ${exchange.status} without an X-Subject-Token header`);
    }
    this.#issuedValues.add(value);
    const held = readTokenBody({ text: exchange.text, value, startedAtMs, what });
    this.#held = held;
    return held;
  }

  /** One HTTP request and its whole body, within the request deadline and the caller's signal. */
  async #exchange(req: ExchangeRequest): Promise<Exchange> {
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    const started = performance.now();
    let status: number | undefined;
    try {
      const response = await request(req.url, {
        dispatcher: this.#agent,
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        signal: AbortSignal.any([req.signal, deadline]),
      });
      status = response.statusCode;
      const text = await response.body.text();
      return { status, headers: response.headers, text };
    } catch (err) {
      throw this.#translate(err, { req, deadline });
    } finally {
      this.#onRequest?.(req.service, (performance.now() - started) / 1000, status);
    }
  }

  #translate(err: unknown, context: { req: ExchangeRequest; deadline: AbortSignal }): ExporterError {
    const what = describeRequest(context.req.method, context.req.service, context.req.url);
    if (context.deadline.aborted || isUndiciTimeout(err)) {
      return new ExporterError('OPENSTACK_TIMEOUT', `${what}: no complete answer within ${formatSeconds(this.#timeoutMs)}`, { cause: err });
    }
    if (context.req.signal.aborted) {
      // errors.ts has no "aborted" code for OpenStack; a cancelled cycle is the caller's deadline, hence TIMEOUT.
      return new ExporterError('OPENSTACK_TIMEOUT', `${what}: cancelled`, { cause: context.req.signal.reason });
    }
    return new ExporterError('OPENSTACK_HTTP', `${what}: ${this.#scrub(describeCause(err))}`, { cause: err });
  }

  /** `: <message>` from an OpenStack error body, shortened and scrubbed; empty when there is none. */
  #detailOf(exchange: Exchange): string {
    const message = extractErrorMessage(exchange.text);
    if (message === undefined) return '';
    const short = message.length > MAX_DETAIL_CHARS ? `${message.slice(0, MAX_DETAIL_CHARS)}…` : message;
    return `: ${this.#scrub(short)}`;
  }

  #scrub(text: string): string {
    const auth = this.#credentials.auth;
    // Longest first, so a secret that contains another is removed whole.
    const secrets = [auth.type === 'password' ? auth.password : auth.secret, ...this.#issuedValues]
      .filter((secret) => secret !== '')
      .sort((a, b) => b.length - a.length);
    return secrets.reduce((result, secret) => result.split(secret).join(REDACTED), text);
  }
}

/** The body of POST /v3/auth/tokens, exactly as Keystone v3 takes it. */
export function buildTokenRequest(auth: CloudAuth): unknown {
  if (auth.type === 'v3applicationcredential') {
    const credential = 'id' in auth.credential
      ? { id: auth.credential.id, secret: auth.secret }
      : { name: auth.credential.name, user: buildUser(auth.credential.user), secret: auth.secret };
    // An application credential carries its own project; Keystone refuses a scope next to it.
    return { auth: { identity: { methods: ['application_credential'], application_credential: credential } } };
  }
  const scope = 'system' in auth.scope
    ? { system: { all: true } }
    : { project: 'id' in auth.scope.project ? { id: auth.scope.project.id } : { name: auth.scope.project.name, domain: auth.scope.project.domain } };
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { ...buildUser(auth.user), password: auth.password } } },
      scope,
    },
  };
}

function buildUser(user: { readonly id: string } | { readonly name: string; readonly domain: { readonly id: string } | { readonly name: string } }): Record<string, unknown> {
  return 'id' in user ? { id: user.id } : { name: user.name, domain: user.domain };
}

/** `{auth_url}/v3/auth/tokens`; an auth_url that already ends in /v3 is not given a second one. */
export function buildTokensUrl(authUrl: string): URL {
  const url = new URL(authUrl);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = /\/v3$/.test(path) ? `${path}/auth/tokens` : `${path}/v3/auth/tokens`;
  url.search = '';
  url.hash = '';
  return url;
}

/** The first endpoint of the service type with the interface, in the region when one is configured. */
export function findEndpoint(
  catalog: readonly CatalogService[],
  wanted: { readonly serviceType: string; readonly regionName: string | undefined; readonly interface: OpenStackInterface },
): string {
  const services = catalog.filter((service) => service.type === wanted.serviceType);
  if (services.length === 0) {
    const types = [...new Set(catalog.map((service) => service.type))].join(', ');
    throw new ExporterError('OPENSTACK_AUTH', `the token's catalog has no ${wanted.serviceType} service (it has: ${types || 'nothing'})`);
  }
  const endpoints = services.flatMap((service) => service.endpoints);
  const match = endpoints.find(
    (endpoint) => endpoint.interface === wanted.interface && (wanted.regionName === undefined || endpoint.region === wanted.regionName),
  );
  if (match) return match.url;
  const region = wanted.regionName === undefined ? 'any region' : `region ${wanted.regionName}`;
  const available = endpoints.map((endpoint) => `${endpoint.region ?? '(no region)'} ${endpoint.interface}`).join(', ');
  throw new ExporterError(
    'OPENSTACK_AUTH',
    `the token's catalog has no ${wanted.serviceType} endpoint for ${region} and interface ${wanted.interface} (it has: ${available || 'none'})`,
  );
}

/**
 * A path joins the endpoint URL; an absolute URL must stay on the endpoint's origin, because the token goes with
 * it and a link in a response body is no reason to hand the token to another host.
 */
function resolveRequestUrl(endpoint: string, pathOrUrl: string, serviceType: string): URL {
  const base = new URL(endpoint);
  if (!/^https?:\/\//i.test(pathOrUrl)) return new URL(`${endpoint.replace(/\/+$/, '')}/${pathOrUrl.replace(/^\/+/, '')}`);
  const url = new URL(pathOrUrl);
  if (url.origin !== base.origin) {
    throw new ExporterError(
      'OPENSTACK_HTTP',
      `GET ${serviceType} ${url.origin}${url.pathname}: refusing a URL outside the ${serviceType} endpoint ${base.origin} (the token would go with it)`,
    );
  }
  return url;
}

function readTokenBody(options: { text: string; value: string; startedAtMs: number; what: string }): HeldToken {
  const { text, value, startedAtMs, what } = options;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ExporterError('OPENSTACK_AUTH', `${what}: the answer is not JSON`);
  }
  const token = isRecord(body) && isRecord(body['token']) ? body['token'] : undefined;
  const expiresAtMs = typeof token?.['expires_at'] === 'string' ? Date.parse(token['expires_at']) : Number.NaN;
  if (!token || Number.isNaN(expiresAtMs)) throw new ExporterError('OPENSTACK_AUTH', `${what}: the answer has no token.expires_at`);
  if (!Array.isArray(token['catalog'])) {
    throw new ExporterError('OPENSTACK_AUTH', `${what}: the token has no service catalog (is it scoped to a project or the system?)`);
  }
  const issuedAtMs = typeof token['issued_at'] === 'string' ? Date.parse(token['issued_at']) : Number.NaN;
  // Keystone's lifetime laid onto our clock from when we asked: a skewed local clock then cannot make us keep
  // a token Keystone already considers expired, nor drop a fresh one at once.
  const lifetimeMs = expiresAtMs - (Number.isNaN(issuedAtMs) ? startedAtMs : issuedAtMs);
  if (lifetimeMs <= 0) throw new ExporterError('OPENSTACK_AUTH', `${what}: the token expires before it was issued`);
  const marginMs = Math.min(RENEW_MARGIN_MS, lifetimeMs * RENEW_MARGIN_SHARE);
  return {
    token: { value, expiresAt: new Date(expiresAtMs), catalog: readCatalog(token['catalog']) },
    renewAtMs: startedAtMs + lifetimeMs - marginMs,
  };
}

/** Entries without a type or endpoints without a URL are skipped: they cannot be used, and need not stop the rest. */
function readCatalog(raw: readonly unknown[]): CatalogService[] {
  return raw.filter(isRecord).flatMap((entry) => {
    if (typeof entry['type'] !== 'string' || !Array.isArray(entry['endpoints'])) return [];
    const endpoints = entry['endpoints'].filter(isRecord).flatMap((endpoint): CatalogEndpoint[] => {
      if (typeof endpoint['url'] !== 'string' || typeof endpoint['interface'] !== 'string') return [];
      const region = typeof endpoint['region_id'] === 'string' ? endpoint['region_id'] : typeof endpoint['region'] === 'string' ? endpoint['region'] : undefined;
      return [{ interface: endpoint['interface'], region, url: endpoint['url'] }];
    });
    return [{ type: entry['type'], name: typeof entry['name'] === 'string' ? entry['name'] : undefined, endpoints }];
  });
}

/** OpenStack error bodies: `{"error": {"message"}}` (Keystone), `{"forbidden": {"message"}}` (Nova), `{"NeutronError": {"message"}}`. */
function extractErrorMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(body)) return undefined;
  for (const value of Object.values(body)) {
    if (isRecord(value) && typeof value['message'] === 'string' && value['message'] !== '') return value['message'];
  }
  return undefined;
}

/** Method, service and path: never the query, which may carry markers or filters, nor the host. */
function describeRequest(method: string, service: string, url: URL): string {
  return `${method} ${service} ${url.pathname}`;
}

function isUndiciTimeout(err: unknown): boolean {
  return err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError;
}

function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message === '' && err instanceof AggregateError ? err.errors.map(describeCause).join('; ') : err.message;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/** Waits for a shared promise, giving up (for this caller only) when its signal aborts. */
function waitFor<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelled(what, signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled(what, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function cancelled(what: string, signal: AbortSignal): ExporterError {
  return new ExporterError('OPENSTACK_TIMEOUT', `${what}: cancelled`, { cause: signal.reason });
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}

function formatSeconds(ms: number): string {
  return `${ms / 1000}s`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

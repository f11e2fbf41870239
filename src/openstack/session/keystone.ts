/** A Keystone v3 session: a renewed token, catalog endpoints, JSON GETs; no token or secret ever enters a message. */
import { ExporterError, OpenStackHttpError } from '../../errors.ts';
import type { CloudCredentials } from '../credentials/cloud-credentials.ts';
import { formatErrorDetail } from './error-detail.ts';
import { HttpClient, describeRequest } from './http-client.ts';
import type { HttpAnswer } from './http-client.ts';
import { buildTokenRequest, buildTokensUrl, parseTokenBody } from './keystone-token.ts';
import type { HeldToken, KeystoneToken } from './keystone-token.ts';
import { SecretScrubber } from './secret-scrubber.ts';
import { findEndpoint } from './service-catalog.ts';
import { resolveRequestUrl } from './url-guard.ts';

export interface KeystoneSessionOptions {
  readonly credentials: CloudCredentials;
  readonly requestTimeoutMs: number;
  /** The PEM text of `credentials.cacert`, read by the caller. */
  readonly caCertificates?: string;
  /** Milliseconds since the epoch. */
  readonly clock?: () => number;
  /** Once per HTTP exchange (token requests under `identity`); `status` is undefined when no response arrived. */
  readonly onRequest?: (service: string, seconds: number, status: number | undefined) => void;
}

export interface GetOptions {
  readonly signal: AbortSignal;
  /** E.g. `OpenStack-API-Version: compute 2.93`; X-Auth-Token is always ours. */
  readonly headers?: Readonly<Record<string, string>>;
}

export class KeystoneSession {
  readonly #credentials: CloudCredentials;
  readonly #clock: () => number;
  readonly #http: HttpClient;
  /** The password or secret, and every token value ever issued here, to scrub from what a server echoes. */
  readonly #scrubber: SecretScrubber;
  /** Aborts a shared token request when the session closes; no single caller owns it. */
  readonly #lifetime = new AbortController();
  #held: HeldToken | undefined;
  #pending: Promise<HeldToken> | undefined;

  constructor(options: KeystoneSessionOptions) {
    this.#credentials = options.credentials;
    this.#clock = options.clock ?? Date.now;
    const auth = options.credentials.auth;
    this.#scrubber = new SecretScrubber([auth.type === 'password' ? auth.password : auth.secret]);
    this.#http = new HttpClient({
      timeoutMs: options.requestTimeoutMs,
      verify: options.credentials.verify,
      caCertificates: options.caCertificates,
      onRequest: options.onRequest,
      scrub: (text) => this.#scrubber.scrub(text),
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

  async endpoint(serviceType: string, signal: AbortSignal): Promise<string> {
    const token = await this.token(signal);
    return this.#endpointIn(token, serviceType);
  }

  /** `pathOrUrl` is relative to the service's catalog URL, or an absolute URL on its origin (a pagination link). */
  async get(serviceType: string, pathOrUrl: string, options: GetOptions): Promise<unknown> {
    const first = await this.token(options.signal);
    const answer = await this.#getWith(first, serviceType, pathOrUrl, options);
    if (answer.exchange.status !== 401) return this.#parseJson(answer.exchange, answer.what);
    // One new token and one retry: a token can be revoked or expire early (a Keystone restart with new fernet keys).
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
    return this.#parseJson(retry.exchange, retry.what);
  }

  async close(): Promise<void> {
    this.#lifetime.abort();
    await this.#http.close();
  }

  #endpointIn(token: KeystoneToken, serviceType: string): string {
    return findEndpoint(token.catalog, {
      serviceType,
      regionName: this.#credentials.regionName,
      interface: this.#credentials.interface,
    });
  }

  async #getWith(
    token: KeystoneToken,
    serviceType: string,
    pathOrUrl: string,
    options: GetOptions,
  ): Promise<{ exchange: HttpAnswer; what: string }> {
    const url = resolveRequestUrl(this.#endpointIn(token, serviceType), pathOrUrl, serviceType);
    const exchange = await this.#http.exchange({
      method: 'GET',
      service: serviceType,
      url,
      headers: { ...lowerCaseKeys(options.headers ?? {}), accept: 'application/json', 'x-auth-token': token.value },
      signal: options.signal,
    });
    return { exchange, what: describeRequest('GET', serviceType, url) };
  }

  #parseJson(exchange: HttpAnswer, what: string): unknown {
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
    const exchange = await this.#http.exchange({
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
      throw new ExporterError(
        'OPENSTACK_AUTH',
        `${what} returned ${exchange.status} without an X-Subject-Token header`,
      );
    }
    this.#scrubber.add(value);
    const held = parseTokenBody({ text: exchange.text, value, startedAtMs, what });
    this.#held = held;
    return held;
  }

  #detailOf(exchange: HttpAnswer): string {
    return formatErrorDetail(exchange.text, (text) => this.#scrubber.scrub(text));
  }
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
  return new ExporterError('OPENSTACK_ABORTED', `${what}: cancelled`, { cause: signal.reason });
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}

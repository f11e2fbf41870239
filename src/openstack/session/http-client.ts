/** The one module importing undici: an exchange ends whole, in any status, or as an OPENSTACK_* error. */
import { Agent, errors as undiciErrors, request } from 'undici';
import { ExporterError } from '../../errors.ts';

export interface HttpClientOptions {
  /** The deadline of each exchange, from sending the request to the last byte of the body. */
  readonly timeoutMs: number;
  readonly verify: boolean;
  /** PEM text that replaces the system CAs, as a CA bundle does for openstacksdk; ignored without `verify`. */
  readonly caCertificates?: string | undefined;
  /** Once per exchange, so the caller keeps the metrics; `status` is undefined when no answer arrived. */
  readonly onRequest?: ((service: string, seconds: number, status: number | undefined) => void) | undefined;
  /** Removes secrets from text a library wrote (an error message) before it goes into one of ours. */
  readonly scrub?: ((text: string) => string) | undefined;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly service: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** Enough for any server listing; a runaway body is refused rather than held in memory. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class HttpClient {
  readonly #timeoutMs: number;
  readonly #onRequest: HttpClientOptions['onRequest'];
  readonly #scrub: (text: string) => string;
  readonly #agent: Agent;

  constructor(options: HttpClientOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#onRequest = options.onRequest;
    this.#scrub = options.scrub ?? ((text) => text);
    this.#agent = new Agent({
      connect: {
        rejectUnauthorized: options.verify,
        ...(options.verify && options.caCertificates !== undefined ? { ca: options.caCertificates } : {}),
        timeout: options.timeoutMs,
      },
      // Backstops only: each exchange's own deadline (an AbortSignal) normally ends it first.
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      maxResponseSize: MAX_RESPONSE_BYTES,
    });
  }

  async exchange(req: HttpRequest): Promise<HttpAnswer> {
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
      throw this.#translate(err, req, deadline);
    } finally {
      this.#onRequest?.(req.service, (performance.now() - started) / 1000, status);
    }
  }

  /** Lets in-flight exchanges finish (each has its deadline), then frees the connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  #translate(err: unknown, req: HttpRequest, deadline: AbortSignal): ExporterError {
    const what = describeRequest(req.method, req.service, req.url);
    if (deadline.aborted || isUndiciTimeout(err)) {
      return new ExporterError('OPENSTACK_TIMEOUT', `${what}: no complete answer within ${this.#timeoutMs / 1000}s`, {
        cause: err,
      });
    }
    // The caller gave up (a cycle ended, the exporter stops): no deadline passed, so this is no timeout.
    if (req.signal.aborted)
      return new ExporterError('OPENSTACK_ABORTED', `${what}: cancelled`, { cause: req.signal.reason });
    return new ExporterError('OPENSTACK_HTTP', `${what}: ${this.#scrub(describeCause(err))}`, { cause: err });
  }
}

/** Method, service and path: never the query, which may carry markers or filters, nor the host. */
export function describeRequest(method: string, service: string, url: URL): string {
  return `${method} ${service} ${url.pathname}`;
}

function isUndiciTimeout(err: unknown): boolean {
  return (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  );
}

/** A library error's message with its errno code; an empty AggregateError (happy eyeballs) by its parts. */
function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const message =
    err.message === '' && err instanceof AggregateError ? err.errors.map(describeCause).join('; ') : err.message;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

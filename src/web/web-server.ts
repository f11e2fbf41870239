// HTTP, or HTTPS with the web config's TLS, its headers, rate limit and basic auth before the routes, re-read when
// a file changes. Speaks HTTP/1.1 (docs/design-notes.md).
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { BasicAuthChecker, parseBasicAuthorization } from './basic-auth.ts';
import type { BcryptCompare } from './basic-auth.ts';
import { fingerprintFiles, loadWebConfig } from './web-config-load.ts';
import type { LoadedWebConfig } from './web-config-load.ts';
import { TokenBucket } from './token-bucket.ts';
import type { RateLimit } from './web-config.ts';
import {
  buildSecureContextOptions,
  checkClientCertificate,
  parseSubjectAltNames,
  requestsClientCertificate,
} from './tls-options.ts';

/** Open without credentials, so a liveness probe needs none (the toolkit's exporters leave it to the handler). */
const UNAUTHENTICATED_PATH = '/-/healthy';
const DEFAULT_WATCH_INTERVAL_MS = 5000;

export interface WebServerOptions {
  readonly handler: RequestListener;
  readonly webConfig: LoadedWebConfig;
  readonly log: Logger;
  readonly watchIntervalMs?: number;
  readonly compare?: BcryptCompare;
}

export interface WebServer {
  readonly server: HttpServer | HttpsServer;
  readonly tls: boolean;
  /** Re-reads the web config file; throws a ConfigError (and keeps the running config) when it is refused. */
  reload(): Promise<void>;
  lastReloadSuccessful(): boolean;
  watch(): void;
  stop(): void;
}

export function createWebServer(options: WebServerOptions): WebServer {
  const { log } = options;
  let current = options.webConfig;
  let auth = new BasicAuthChecker({
    users: current.config.basicAuthUsers,
    ...(options.compare ? { compare: options.compare } : {}),
  });
  let limiter = buildLimiter(current.config.rateLimit, undefined);
  let lastOk = true;
  let lastSeen = current.fingerprint;
  let reloading: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [name, value] of Object.entries(current.config.headers)) res.setHeader(name, value);
    // Every request, /-/healthy and unauthenticated ones included, as the toolkit counts them.
    if (limiter && !limiter.take(Date.now())) {
      sendJsonError(res, 429, 'TOO_MANY_REQUESTS', 'too many requests: rate_limit in the web config file');
      return;
    }
    if (!auth.enabled || req.url?.split('?')[0] === UNAUTHENTICATED_PATH) {
      options.handler(req, res);
      return;
    }
    auth.check(parseBasicAuthorization(req.headers.authorization)).then(
      (ok) => (ok ? options.handler(req, res) : sendUnauthorized(res)),
      (err: unknown) => {
        log.error('basic auth check failed', { err });
        sendJsonError(res, 500, 'INTERNAL', 'internal error; see the exporter log');
      },
    );
  };

  const initialTls = current.config.tls;
  const tls = initialTls !== undefined && current.material !== undefined;
  let server: HttpServer | HttpsServer;
  if (initialTls && current.material) {
    server = createHttpsServer(
      {
        ...buildSecureContextOptions(initialTls, current.material),
        requestCert: requestsClientCertificate(initialTls.clientAuthType),
        // Every client-certificate policy is decided in checkClientCertificate, which reads the current config.
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      },
      handle,
    );
    server.on('secureConnection', (socket: TLSSocket) => {
      const policy = current.config.tls;
      if (!policy) return;
      const certificate = socket.getPeerX509Certificate();
      const reason = checkClientCertificate(policy, {
        present: certificate !== undefined,
        verified: socket.authorized,
        verifyError: socket.authorizationError === undefined ? undefined : String(socket.authorizationError),
        sans: parseSubjectAltNames(certificate?.subjectAltName),
      });
      if (reason === undefined) return;
      log.warn('refused a TLS client', { remote: socket.remoteAddress, reason });
      socket.destroy();
    });
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      log.debug('TLS handshake failed', { remote: socket.remoteAddress, err });
    });
    if (current.config.http2)
      log.info('http_server_config.http2 is on, but the exporter serves HTTP/1.1 over TLS; see README.md');
  } else {
    server = createHttpServer(handle);
  }

  const apply = async (): Promise<void> => {
    const next = await loadWebConfig(current.path);
    const nextTls = next.config.tls;
    const runningTls = current.config.tls;
    // Whether the socket speaks TLS, and whether the handshake asks for a client certificate, are fixed
    // when the server is made; Node.js can swap certificates and ciphers on a running server, not these.
    if ((nextTls === undefined) !== (runningTls === undefined)) {
      throw new ConfigError(current.path, [`tls_server_config: turning TLS ${nextTls ? 'on' : 'off'} takes a restart`]);
    }
    if (
      nextTls &&
      runningTls &&
      requestsClientCertificate(nextTls.clientAuthType) !== requestsClientCertificate(runningTls.clientAuthType)
    ) {
      throw new ConfigError(current.path, [
        `tls_server_config.client_auth_type: changing between NoClientCert and a policy that asks for certificates takes a restart (running: ${runningTls.clientAuthType})`,
      ]);
    }
    if (nextTls && next.material && 'setSecureContext' in server)
      server.setSecureContext(buildSecureContextOptions(nextTls, next.material));
    current = next;
    limiter = buildLimiter(next.config.rateLimit, limiter);
    auth = new BasicAuthChecker({
      users: next.config.basicAuthUsers,
      ...(options.compare ? { compare: options.compare } : {}),
    });
  };

  const reloadOnce = async (): Promise<void> => {
    try {
      await apply();
      lastOk = true;
      lastSeen = current.fingerprint;
      log.info('web config reloaded', {
        file: current.path,
        tls,
        basic_auth_users: current.config.basicAuthUsers.size,
      });
    } catch (err) {
      lastOk = false;
      lastSeen = await fingerprintFiles(current.files);
      log.error('web config reload failed; keeping the previous web config', { file: current.path, err });
      throw err;
    }
  };

  const reload = async (): Promise<void> => {
    // One load at a time: a SIGHUP during a timer-driven check waits for it, then loads again.
    while (reloading) await reloading.catch(() => {});
    const run = reloadOnce();
    reloading = run;
    try {
      await run;
    } finally {
      if (reloading === run) reloading = undefined;
    }
  };

  const checkForChanges = async (): Promise<void> => {
    if (reloading) return;
    const fingerprint = await fingerprintFiles(current.files);
    if (fingerprint === lastSeen) return;
    lastSeen = fingerprint;
    await reload().catch(() => {});
  };

  return {
    server,
    tls,
    reload,
    lastReloadSuccessful: () => lastOk,
    watch() {
      timer ??= setInterval(() => void checkForChanges(), options.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/** A new bucket for a new limit; the running one, with its tokens, when a reload leaves the limit as it was. */
function buildLimiter(limit: RateLimit | undefined, running: TokenBucket | undefined): TokenBucket | undefined {
  if (limit === undefined) return undefined;
  return running?.hasLimit(limit) ? running : new TokenBucket(limit, Date.now());
}

function sendUnauthorized(res: ServerResponse): void {
  res.setHeader('WWW-Authenticate', 'Basic');
  sendJsonError(res, 401, 'UNAUTHORIZED', 'this exporter needs basic auth credentials from the web config file');
}

function sendJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

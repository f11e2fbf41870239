/**
 * The HTTP routes (/, /metrics, /report, /-/healthy, /-/ready, /-/reload): handlers read the state, the reload
 * goes through a callback; errors reach clients as {"error": {"code", "message"}}, never a stack trace.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { ExporterState } from '../core/exporter-state.ts';
import { buildReport, parseReportFilter } from '../core/report.ts';
import { ExporterError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BuildInfo, MetricsEndpoint } from '../metrics/collectors.ts';
import { renderLandingPage } from './landing-page.ts';

export interface AppOptions {
  readonly state: ExporterState;
  readonly metrics: MetricsEndpoint;
  readonly build: BuildInfo;
  readonly log: Logger;
  /** Re-reads the config file; rejects with a ConfigError when the new file is invalid. */
  readonly reload: () => Promise<void>;
  readonly now?: () => Date;
}

/** The paths that answer GET (and so HEAD, which Express serves from the GET handler). */
const READ_PATHS = ['/', '/metrics', '/report', '/-/healthy', '/-/ready'];

const LANDING_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'";

export function createApp(options: AppOptions): RequestListener {
  const { state, metrics, log } = options;
  const now = options.now ?? (() => new Date());
  const app = express();
  app.disable('x-powered-by');

  // No route reads a body, so none is accepted: a large POST to /-/reload must not be read into memory or
  // trigger a reload. Connection: close ends the request without draining what the client still sends.
  app.use((req, res, next) => {
    if (!hasBody(req)) {
      next();
      return;
    }
    res.set('Connection', 'close');
    sendError(res, 413, 'BODY_NOT_ALLOWED', `${req.method} ${req.path} takes no request body`);
  });

  app.get('/', (req, res) => {
    const parsed = parseReportFilter(new URL(req.originalUrl, 'http://localhost').searchParams);
    if (!parsed.ok) {
      sendError(res, 400, 'BAD_FILTER', parsed.message);
      return;
    }
    // The page shows names from the cloud, which are user input: should escaping ever miss one, the browser
    // still runs no script and loads nothing (inline styles are the page's only need).
    res.set('Content-Security-Policy', LANDING_PAGE_POLICY);
    res.type('html').send(renderLandingPage({ state, build: options.build, filter: parsed.filter }));
  });

  // Prometheus asks for gzip on every scrape. The body is written as is rather than through res.send, which
  // would hash all of it for an ETag that no scraper sends back.
  app.get('/metrics', async (req, res) => {
    const gzip = req.acceptsEncodings('gzip', 'identity') === 'gzip';
    const chunks = await metrics.renderBody({ gzip });
    res.set({ 'Content-Type': metrics.contentType, Vary: 'Accept-Encoding' });
    if (gzip) res.set('Content-Encoding', 'gzip');
    res.set('Content-Length', String(chunks.reduce((length, chunk) => length + chunk.length, 0)));
    for (const chunk of chunks) res.write(chunk);
    res.end();
  });

  app.get('/report', (req, res) => {
    const parsed = parseReportFilter(new URL(req.originalUrl, 'http://localhost').searchParams);
    if (!parsed.ok) {
      sendError(res, 400, 'BAD_FILTER', parsed.message);
      return;
    }
    res.json(buildReport(state, parsed.filter, now()));
  });

  app.get('/-/healthy', (_req, res) => {
    res.type('text').send('Healthy\n');
  });

  app.get('/-/ready', (_req, res) => {
    if (state.ready) res.type('text').send('Ready\n');
    else res.status(503).type('text').send('Not ready: no scan cycle has completed yet and no state was restored\n');
  });

  app.post('/-/reload', async (_req, res) => {
    try {
      await options.reload();
      res.type('text').send('Config reloaded\n');
    } catch (err) {
      const code = err instanceof ExporterError ? err.code : 'INTERNAL';
      sendError(res, 500, code, describeError(err));
    }
  });

  app.all('/-/reload', (_req, res) => {
    res.set('Allow', 'POST');
    sendError(res, 405, 'METHOD_NOT_ALLOWED', 'use POST to reload the config');
  });

  for (const path of READ_PATHS) {
    app.all(path, (req, res) => {
      res.set('Allow', 'GET, HEAD');
      sendError(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}; use GET`);
    });
  }

  app.use((req, res) => {
    sendError(res, 404, 'NOT_FOUND', `no such path: ${req.path}`);
  });

  // Express needs all four parameters to recognise an error handler.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    log.error('request failed', { err });
    sendError(res, 500, 'INTERNAL', 'internal error; see the exporter log');
  });

  // Express hands a request whose URL it cannot parse (`GET http://[::1/metrics`) straight to this callback,
  // before any route or middleware; without one it would answer with its own HTML page.
  // The casts only satisfy the typings' three-argument form; Express extends req and res itself on entry.
  return (req, res) => {
    app(req as Request, res as Response, (err?: unknown) => {
      if (err !== undefined) log.error('request failed', { err });
      if (res.headersSent) res.destroy();
      else if (err !== undefined) writeJsonError(res, 500, 'INTERNAL', 'internal error; see the exporter log');
      else writeJsonError(res, 400, 'BAD_URL', 'the request URL cannot be parsed');
    });
  };
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
}

function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** The same body as sendError, for a response Express has not wrapped. */
function writeJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

// The HTTP routes: handlers read the state, the reload goes through a callback; errors reach clients as
// {"error": {"code", "message"}}, never a stack trace.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { ExporterState } from '../state/exporter-state.ts';
import { buildReport, parseReportFilter } from '../report/report.ts';
import { parseHistoryRequest, renderHistoryCsv, renderHistoryJson } from '../report/history-report.ts';
import type { HistoryRecorder } from '../history/history-recorder.ts';
import type { TicketPage } from '../history/ticket.ts';
import { ExporterError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BuildInfo, MetricsEndpoint } from '../metrics/collectors.ts';
import { renderLandingPage } from '../page/landing-page.ts';

export interface AppOptions {
  readonly state: ExporterState;
  readonly metrics: MetricsEndpoint;
  readonly build: BuildInfo;
  readonly log: Logger;
  readonly reload: () => Promise<void>;
  readonly now?: () => Date;
  /** Absent with history disabled: /history then says so, and the page has no history part. */
  readonly history?: Pick<HistoryRecorder, 'view' | 'query' | 'settings'> | undefined;
}

/** The paths that answer GET (and so HEAD, which Express serves from the GET handler). */
const READ_PATHS = ['/', '/metrics', '/report', '/history', '/-/healthy', '/-/ready'];

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
    // Names from the cloud are user input: should escaping ever miss one, the browser still runs no script.
    res.set('Content-Security-Policy', LANDING_PAGE_POLICY);
    res
      .type('html')
      .send(
        renderLandingPage({ state, build: options.build, filter: parsed.filter, history: options.history, now: now() }),
      );
  });

  // Written as is, not through res.send, which would hash the whole body for an ETag no scraper sends back.
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

  app.get('/history', (req, res) => {
    sendHistory(req, res, options.history);
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

  // Express hands a request whose URL it cannot parse straight to this callback, before any route; without one it
  // would answer with its own HTML page. The casts only satisfy the typings' three-argument form.
  return (req, res) => {
    app(req as Request, res as Response, (err?: unknown) => {
      if (err !== undefined) log.error('request failed', { err });
      if (res.headersSent) res.destroy();
      else if (err !== undefined) writeJsonError(res, 500, 'INTERNAL', 'internal error; see the exporter log');
      else writeJsonError(res, 400, 'BAD_URL', 'the request URL cannot be parsed');
    });
  };
}

function sendHistory(req: Request, res: Response, history: AppOptions['history']): void {
  const request = parseHistoryRequest(new URL(req.originalUrl, 'http://localhost').searchParams);
  if (!request.ok) {
    sendError(res, 400, 'BAD_FILTER', request.message);
    return;
  }
  if (!history) {
    sendError(res, 404, 'HISTORY_DISABLED', 'history is disabled (history.enabled: false)');
    return;
  }
  let page: TicketPage;
  try {
    page = request.none ? { tickets: [], next: null } : history.query(request.query);
  } catch (err) {
    // The scans and /report go on without the database; only its reader answers that it is unavailable.
    sendError(res, 503, 'HISTORY_FAILED', describeError(err));
    return;
  }
  if (request.format === 'csv') res.type('text/csv').send(renderHistoryCsv(page));
  else res.json(renderHistoryJson(page));
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

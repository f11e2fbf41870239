/**
 * The HTTP surface (SPEC §5). Handlers only read the exporter state; the one write, POST /-/reload, goes
 * through the reload callback the composition root provides. Errors reach clients as
 * {"error": {"code", "message"}}, never as a stack trace.
 */
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

export function createApp(options: AppOptions): express.Express {
  const { state, metrics, log } = options;
  const now = options.now ?? (() => new Date());
  const app = express();
  app.disable('x-powered-by');

  app.get('/', (_req, res) => {
    res.type('html').send(renderLandingPage({ state, build: options.build }));
  });

  app.get('/metrics', async (_req, res) => {
    const body = await metrics.render();
    res.type(metrics.contentType).send(body);
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

  app.use((req, res) => {
    sendError(res, 404, 'NOT_FOUND', `no such path: ${req.path}`);
  });

  // Express needs all four parameters to recognise an error handler.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    log.error('request failed', { err });
    sendError(res, 500, 'INTERNAL', 'internal error; see the exporter log');
  });

  return app;
}

function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

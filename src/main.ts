#!/usr/bin/env node
/**
 * Composition root: flags and environment → config → wiring → start; signals and exit codes. The only
 * module (with config/load.ts) that reads process.argv, process.env or files the user names.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { ExporterState } from './core/exporter-state.ts';
import { buildReport, hasFindings } from './core/report.ts';
import { CycleScheduler } from './core/scheduler.ts';
import { reclassifySnapshot } from './core/snapshot.ts';
import { loadState, saveState } from './core/state.ts';
import { ConfigError, ExporterError, describeError } from './errors.ts';
import { USAGE, parseFlags } from './flags.ts';
import type { Flags } from './flags.ts';
import { createApp } from './http/app.ts';
import { createLogger } from './log.ts';
import type { Logger } from './log.ts';
import { createMetricsEndpoint } from './metrics/collectors.ts';
import type { BuildInfo } from './metrics/collectors.ts';
import { NmapScanner, probeNmapVersion } from './scan/nmap-scanner.ts';
import { detectPrivilege } from './scan/privilege.ts';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_INVALID = 2;
const EXIT_FINDINGS = 3;
/** SIGTERM must end the process within 10 s; leave a margin for the runtime's own exit. */
const SHUTDOWN_DEADLINE_MS = 9000;
const MIN_NODE_MAJOR = 24;

async function main(argv: readonly string[]): Promise<number> {
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor < MIN_NODE_MAJOR) {
    process.stderr.write(
      `exposure-exporter needs Node.js ${MIN_NODE_MAJOR} or later; this is ${process.version}, which no longer gets security fixes.\n` +
        'Run it with `npm start` or `make run`, which use the Node.js 24 the project installs.\n',
    );
    return EXIT_FAILURE;
  }
  let flags: Flags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    process.stderr.write(`exposure-exporter: ${describeError(err)}\n\n${USAGE}`);
    return EXIT_INVALID;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  const version = await readVersion();
  if (flags.version) {
    process.stdout.write(`exposure-exporter ${version.version} (revision ${version.revision}, Node.js ${process.version})\n`);
    return EXIT_OK;
  }
  const log = createLogger({ level: flags.logLevel, format: flags.logFormat, write: (line) => process.stderr.write(`${line}\n`) });
  if (flags.webConfigFile !== undefined) {
    log.error('--web.config.file is not supported yet; refusing to serve without the TLS or auth it asks for', {
      file: flags.webConfigFile,
    });
    return EXIT_INVALID;
  }

  let config: Config;
  try {
    config = await loadConfig(flags.configFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return flags.configCheck ? EXIT_FAILURE : EXIT_INVALID;
  }
  if (flags.configCheck) {
    process.stdout.write(`${flags.configFile ?? 'built-in defaults'}: config is valid (${config.scan.targets.count} targets)\n`);
    return EXIT_OK;
  }

  const startedAt = new Date();
  const state = new ExporterState({ config, startedAt });
  await restoreState(state, log);

  const privilege = detectPrivilege({ euid: process.geteuid?.() ?? -1, procStatus: await readProcStatus() });
  const nmapVersion = await probeNmapVersion(config.scan.nmapPath, { signal: AbortSignal.timeout(15_000) }).catch(() => 'unknown');
  const build: BuildInfo = { ...version, nodejsVersion: process.version, nmapVersion };
  log.info('starting exposure-exporter', { version: build.version, nmap_version: nmapVersion, privilege, targets: config.scan.targets.count });

  if (config.openstack) {
    // The block is validated so configs written now keep working; reading the inventory comes next.
    log.warn('the OpenStack inventory is not implemented in this version; owner labels stay empty', {
      cloud: config.openstack.cloud,
    });
  }

  const scheduler = new CycleScheduler({
    scanner: new NmapScanner({ privilege }),
    state,
    log,
    // The path is read from the current config each time, so a reload that moves the state file takes effect.
    persist: (snapshot) => saveState({ path: state.config.statePath }, snapshot, new Date()),
  });

  if (flags.once) {
    const outcome = await scheduler.runCycle();
    process.stdout.write(`${JSON.stringify(buildReport(state, {}, new Date()), null, 2)}\n`);
    if (outcome.ran && !outcome.success) return EXIT_FAILURE;
    return flags.failOnFindings && hasFindings(state) ? EXIT_FINDINGS : EXIT_OK;
  }

  const reload = async (): Promise<void> => {
    try {
      const next = await loadConfig(flags.configFile);
      const snapshot = state.snapshot && reclassifySnapshot(state.snapshot, next, new Date());
      state.applyConfig(next, snapshot, new Date());
      scheduler.reschedule();
      log.info('config reloaded', { targets: next.scan.targets.count });
    } catch (err) {
      state.rejectConfig();
      log.error('config reload failed; keeping the previous config', { err });
      throw err;
    }
  };

  const metrics = createMetricsEndpoint({ state, build, processMetrics: true });
  const server = createServer(createApp({ state, metrics, build, log, reload }));
  try {
    await listen(server, flags.listen.host, flags.listen.port);
  } catch (err) {
    log.error('cannot listen', { address: `${flags.listen.host ?? ''}:${flags.listen.port}`, err });
    return EXIT_FAILURE;
  }
  const address = server.address();
  log.info('listening', { address: typeof address === 'object' && address ? formatHostPort(address.address, address.port) : String(address) });
  scheduler.start();

  process.on('SIGHUP', () => {
    reload().catch(() => {});
  });
  return await new Promise<number>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info('shutting down', { signal });
      setTimeout(() => {
        log.error('shutdown took too long; exiting');
        resolve(EXIT_FAILURE);
      }, SHUTDOWN_DEADLINE_MS).unref();
      server.closeAllConnections();
      server.close();
      scheduler.stop().then(() => resolve(EXIT_OK), () => resolve(EXIT_FAILURE));
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}

async function restoreState(state: ExporterState, log: Logger): Promise<void> {
  try {
    const saved = await loadState({ path: state.config.statePath }, new Date());
    if (!saved) return;
    state.restore(reclassifySnapshot(saved, state.config, new Date()));
    log.info('restored state', { path: state.config.statePath, from: saved.scan.finishedAt });
  } catch (err) {
    // A state file we cannot use costs first-seen history, not the exporter: start empty and say why.
    log.warn('cannot restore state; starting without it', { path: state.config.statePath, err });
  }
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function listen(server: Server, host: string | undefined, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function readVersion(): Promise<{ version: string; revision: string }> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const revision = await readFile(new URL('./build-info.json', import.meta.url), 'utf8')
    .then((text) => (JSON.parse(text) as { revision?: string }).revision ?? 'unknown')
    .catch(() => 'unknown');
  return { version: pkg.version, revision };
}

async function readProcStatus(): Promise<string> {
  return readFile('/proc/self/status', 'utf8').catch(() => '');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const code = err instanceof ExporterError ? err.code : 'INTERNAL';
    process.stderr.write(`exposure-exporter: ${code}: ${describeError(err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);

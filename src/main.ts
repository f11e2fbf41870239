#!/usr/bin/env node
// Composition root: flags and environment → config → wiring → start; signals and exit codes. The only module
// (with config/load.ts) that reads process.argv, process.env or files the user names.
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { homedir } from 'node:os';
import type { CloudCredentials } from './openstack/credentials/cloud-credentials.ts';
import { loadCloudCredentials } from './openstack/credentials/clouds-config.ts';
import type { KeystoneSession } from './openstack/session/keystone.ts';
import { loadConfig, readBoundedFile, readOptionalYamlFile } from './config/load.ts';
import { hasInventory } from './config/schema.ts';
import type { Config, InventoryFileConfig, OpenStackConfig } from './config/schema.ts';
import { HistoryRecorder } from './history/history-recorder.ts';
import { renderHistorySummary, resolveHistoryPath } from './config/history-settings.ts';
import type { Shard } from './config/shard-setting.ts';
import { buildExporterConfig } from './state/exporter-config.ts';
import type { ExporterConfig } from './state/exporter-config.ts';
import { InventoryRefresher } from './cycle/inventory-refresher.ts';
import { ExporterState } from './state/exporter-state.ts';
import { acceptReload, rejectReload } from './state/health.ts';
import { hasFindings, renderReportJson } from './report/report.ts';
import { CycleScheduler } from './cycle/scheduler.ts';
import { reclassifySnapshot } from './exposure/snapshot.ts';
import type { Snapshot } from './exposure/snapshot.ts';
import { loadState, resolveStateFile, saveState } from './state/state-file.ts';
import type { StateFile } from './state/state-file.ts';
import { ConfigError, ExporterError, describeError } from './errors.ts';
import { USAGE, parseFlags } from './flags.ts';
import type { Flags } from './flags.ts';
import type { LoadedWebConfig } from './web/web-config-load.ts';
import type { WebServer } from './web/web-server.ts';
import { FileInventory } from './inventory/file-inventory.ts';
import { createLogger } from './log.ts';
import type { Logger } from './log.ts';
import type { BuildInfo } from './metrics/collectors.ts';
import { generateRangeBlocks } from './targets/cidr-blocks.ts';
import { NmapScanner, probeNmapProcStatus, probeNmapVersion } from './scan/nmap-scanner.ts';
import { detectPrivilege } from './scan/privilege.ts';
import { estimateScanDuration, renderScanDuration } from './scan/scan-duration.ts';
import type { ScanDurationEstimate, ScanDurationInput } from './scan/scan-duration.ts';
import { withFinalNewline, writeChunks } from './stream-writer.ts';
import { keepYoungGenerationSmall } from './young-generation.ts';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_INVALID = 2;
const EXIT_FINDINGS = 3;
/** SIGTERM must end the process within 10 s; leave a margin for the runtime's own exit. */
const SHUTDOWN_DEADLINE_MS = 9000;
const MIN_NODE_MAJOR = 24;
/** A local file read is quick; a cycle waits no longer than this for one that is not. */
const INVENTORY_FILE_WAIT_MS = 5000;

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
  keepYoungGenerationSmall();
  const version = await readVersion();
  if (flags.version) {
    process.stdout.write(
      `exposure-exporter ${version.version} (revision ${version.revision}, Node.js ${process.version})\n`,
    );
    return EXIT_OK;
  }
  const log = createLogger({
    level: flags.logLevel,
    format: flags.logFormat,
    write: (line) => process.stderr.write(`${line}\n`),
  });
  const loaded = await loadFiles(flags);
  if (typeof loaded === 'number') return loaded;
  if (flags.configCheck) return runCheck(flags, loaded);
  const exporter = await startExporter(flags, loaded, log, version);
  if (typeof exporter === 'number') return exporter;
  return flags.once ? runOnce(flags, exporter, log) : serve(flags, exporter, loaded.webConfig, log);
}

interface LoadedFiles {
  readonly config: ExporterConfig;
  readonly cloud: CloudAccess | undefined;
  readonly webConfig: LoadedWebConfig | undefined;
}

/** The files, or the exit code of a refusal (1 under --config.check, 2 at a start), its message printed. */
async function loadFiles(flags: Flags): Promise<LoadedFiles | number> {
  try {
    const webConfig =
      flags.webConfigFile === undefined
        ? undefined
        : await (await import('./web/web-config-load.ts')).loadWebConfig(flags.webConfigFile);
    const config = buildExporterConfig(await loadConfig(flags.configFile, flags.shard ? { shard: flags.shard } : {}));
    const cloud = config.settings.openstack && (await loadCloudAccess(config.settings.openstack));
    return { config, cloud, webConfig };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return flags.configCheck ? EXIT_FAILURE : EXIT_INVALID;
  }
}

function runCheck(flags: Flags, { config, cloud }: LoadedFiles): number {
  const cloudNote = cloud ? `, OpenStack credentials from ${describeCredentialSource(cloud.credentials)}` : '';
  process.stdout.write(
    `${flags.configFile ?? 'built-in defaults'}: config is valid (${config.plan.targets.count()} targets${cloudNote})\n`,
  );
  const { estimate, input } = estimateConfigDuration(config);
  const lines = [
    ...renderScanDuration(estimate, input),
    renderHistorySummary(config.settings.history, config.settings.statePath),
  ];
  process.stdout.write(lines.map((line) => `${line}\n`).join(''));
  return EXIT_OK;
}

interface RunningExporter {
  readonly state: ExporterState;
  readonly scheduler: CycleScheduler;
  readonly inventories: readonly InventoryRefresher[];
  readonly session: KeystoneSession | undefined;
  readonly build: BuildInfo;
  /** Where the Keystone session reports each request's time, once a server has metrics to keep it. */
  readonly openStackRequests: { observe?: (service: string, seconds: number) => void };
  readonly history: HistoryRecorder | undefined;
}

async function startExporter(
  flags: Flags,
  { config, cloud }: LoadedFiles,
  log: Logger,
  version: { version: string; revision: string },
): Promise<RunningExporter | number> {
  const state = new ExporterState({ config, startedAt: new Date() });
  let stateFile: StateFile;
  try {
    stateFile = await resolveStateFile({ path: config.settings.statePath });
  } catch (err) {
    process.stderr.write(`${flags.configFile ?? 'built-in defaults'}: ${(err as Error).message}\n`);
    return EXIT_INVALID;
  }
  if (stateFile.path !== config.settings.statePath) {
    log.warn('the state directory is writable by everyone; keeping the state in a private subdirectory', {
      path: stateFile.path,
    });
  }
  await restoreState(state, stateFile, log);
  const history = openHistory(config.settings, stateFile, { restored: state.snapshot, once: flags.once }, log);

  const euid = process.geteuid?.() ?? -1;
  // Both probes at once, each skipped where it cannot change anything: root may always open raw sockets, and
  // --once serves no build info (its report takes nmap's version from the scan).
  const [procStatus, nmapProcStatus, nmapVersion] = await Promise.all([
    readProcStatus(),
    euid === 0
      ? undefined
      : probeNmapProcStatus(config.settings.scan.nmapPath, { signal: AbortSignal.timeout(15_000) }),
    flags.once
      ? undefined
      : probeNmapVersion(config.settings.scan.nmapPath, { signal: AbortSignal.timeout(15_000) }).catch(() => 'unknown'),
  ]);
  const privilege = detectPrivilege({ euid, procStatus, nmapProcStatus });
  log.info('starting exposure-exporter', {
    version: version.version,
    nmap_version: nmapVersion,
    privilege,
    targets: config.plan.targets.count(),
  });

  const openStackRequests: RunningExporter['openStackRequests'] = {};
  const openstack = config.settings.openstack;
  const { session, inventory } =
    cloud && openstack
      ? await connectCloud({
          cloud,
          openstack,
          state,
          log,
          onRequest: (service, seconds) => openStackRequests.observe?.(service, seconds),
        })
      : { session: undefined, inventory: undefined };
  if (cloud) log.info('reading the OpenStack inventory', { credentials: describeCredentialSource(cloud.credentials) });
  const inventoryFile = config.settings.inventoryFile && createFileInventory(config.settings.inventoryFile, state, log);
  // One refresh for the scheduler: with both sources, a cycle waits for both (each within its own bound).
  const inventories = [inventory, inventoryFile].filter((refresher) => refresher !== undefined);
  const refreshInventories = {
    ensureFresh: async (): Promise<void> => {
      await Promise.all(inventories.map((refresher) => refresher.ensureFresh()));
    },
  };
  logUnsweptRanges(config, undefined, log);
  logScanDuration(config, log);

  const scheduler = new CycleScheduler({
    scanner: new NmapScanner({ privilege }),
    state,
    log,
    // The path is read from the current config each time, so a reload that moves the state file takes effect.
    persist: async (snapshot) =>
      saveState(await resolveStateFile({ path: state.config.settings.statePath }), snapshot, new Date()),
    ...(inventories.length > 0 ? { inventory: refreshInventories } : {}),
    history,
  });
  const build: BuildInfo = { ...version, nodejsVersion: process.version, nmapVersion: nmapVersion ?? 'unknown' };
  return { state, scheduler, inventories, session, build, openStackRequests, history };
}

/** Read at start so the ticket metrics are served before the first cycle; one that fails to open is retried. */
function openHistory(
  settings: Config,
  stateFile: StateFile,
  { restored, once }: { restored: Snapshot | undefined; once: boolean },
  log: Logger,
): HistoryRecorder | undefined {
  if (!settings.history.enabled) return undefined;
  const path = resolveHistoryPath(settings.history, stateFile.path);
  const history = new HistoryRecorder({ path, settings: settings.history, log, keepView: !once });
  history.load(restored);
  return history;
}

function sameHistorySettings(a: Config['history'], b: Config['history']): boolean {
  const flat = (settings: Config['history']) =>
    JSON.stringify({ ...settings, remediationTargetsMs: [...settings.remediationTargetsMs] });
  return flat(a) === flat(b);
}

async function runOnce(
  flags: Flags,
  { state, scheduler, inventories, session, history }: RunningExporter,
  log: Logger,
): Promise<number> {
  // cron wants names in its report: wait for the whole first read (each request has its own deadline).
  await Promise.all(inventories.map((refresher) => refresher.refresh()));
  // cron gets the whole picture each run: --once always sweeps every target, with every pass.
  const outcome = await scheduler.runCycle({ scope: 'sweep', everyPass: true });
  history?.close();
  await session?.close();
  // Piece by piece, awaiting stdout: a slow reader (`| jq`) gets it all before exit, and it is never one string.
  try {
    await writeChunks(process.stdout, withFinalNewline(renderReportJson(state, {}, new Date())));
  } catch (err) {
    log.error('cannot write the report to stdout', { err });
    return EXIT_FAILURE;
  }
  if (outcome.ran && !outcome.success) return EXIT_FAILURE;
  return flags.failOnFindings && hasFindings(state) ? EXIT_FINDINGS : EXIT_OK;
}

async function serve(
  flags: Flags,
  exporter: RunningExporter,
  webConfig: LoadedWebConfig | undefined,
  log: Logger,
): Promise<number> {
  const { state, scheduler, inventories, session, build } = exporter;
  // The server's modules (express, prom-client, the web config's bcrypt) are loaded only here: --once never
  // needs them, and loading them is a good part of a short run's time and memory.
  const [
    { createServer },
    { createApp },
    { answerClientErrorsInJson },
    { createWebServer },
    { createMetricsEndpoint },
    { withWebConfigReloadMetric },
  ] = await Promise.all([
    import('node:http'),
    import('./http/app.ts'),
    import('./http/client-errors.ts'),
    import('./web/web-server.ts'),
    import('./metrics/collectors.ts'),
    import('./metrics/web-config-metrics.ts'),
  ]);
  let webServer: WebServer | undefined;
  const exporterMetrics = createMetricsEndpoint({ state, build, processMetrics: true, history: exporter.history });
  const metrics = webConfig
    ? withWebConfigReloadMetric(exporterMetrics, () => webServer?.lastReloadSuccessful() ?? true)
    : exporterMetrics;
  exporter.openStackRequests.observe = (service, seconds) => metrics.observeOpenStackRequest(service, seconds);

  const reload = async (): Promise<void> => {
    try {
      const next = buildExporterConfig(await loadConfig(flags.configFile, flags.shard ? { shard: flags.shard } : {}));
      if (JSON.stringify(next.settings.openstack) !== JSON.stringify(state.config.settings.openstack)) {
        // The Keystone session and its credentials are built once; swapping them mid-read is not worth the risk.
        log.warn('changes to the openstack block take effect at the next restart');
      }
      if (JSON.stringify(next.settings.inventoryFile) !== JSON.stringify(state.config.settings.inventoryFile)) {
        log.warn('changes to the inventory_file block take effect at the next restart');
      }
      if (!sameHistorySettings(next.settings.history, state.config.settings.history)) {
        // The database is opened once; a reload must not swap it under a cycle that is writing.
        log.warn('changes to the history block take effect at the next restart');
      }
      logUnsweptRanges(next, state.config, log);
      const snapshot = state.snapshot && reclassifySnapshot(state.snapshot, next.rules, new Date());
      state.recordReload(acceptReload(new Date()), { config: next, snapshot });
      scheduler.reschedule();
      // The count of all shards together: this replica's share takes hashing every address, left to the next cycle.
      log.info('config reloaded', {
        all_targets: next.settings.scan.targets.count,
        shard: formatShard(next.settings.scan.shard),
      });
    } catch (err) {
      state.recordReload(rejectReload(state.health.reload));
      log.error('config reload failed; keeping the previous config', { err });
      throw err;
    }
  };

  // SIGHUP and POST /-/reload re-read both files; each keeps its previous version when the new one is bad.
  const reloadAll = async (): Promise<void> => {
    await Promise.all([reload(), webServer?.reload()]);
  };
  const app = createApp({ state, metrics, build, log, reload: reloadAll, history: exporter.history });
  webServer = webConfig && createWebServer({ handler: app, webConfig, log });
  const server = webServer?.server ?? createServer(app);
  answerClientErrorsInJson(server);
  try {
    await listen(server, flags.listen.host, flags.listen.port);
  } catch (err) {
    log.error('cannot listen', { address: `${flags.listen.host ?? ''}:${flags.listen.port}`, err });
    await session?.close();
    return EXIT_FAILURE;
  }
  // Every handler is in place before 'listening' is said: a supervisor that reloads or stops the exporter as
  // soon as it sees it up must not meet a signal's default action (exit) instead.
  process.on('SIGHUP', () => {
    reloadAll().catch(() => {});
  });
  const exitCode = new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      setTimeout(() => {
        log.error('shutdown took too long; exiting');
        resolve(EXIT_FAILURE);
      }, SHUTDOWN_DEADLINE_MS).unref();
      webServer?.stop();
      server.closeAllConnections();
      server.close();
      for (const refresher of inventories) refresher.stop();
      // The session goes last: the inventory read a running cycle waits on uses it.
      scheduler
        .stop()
        .then(() => {
          exporter.history?.close();
          return session?.close();
        })
        .then(
          () => resolve(EXIT_OK),
          () => resolve(EXIT_FAILURE),
        );
    };
    // `on`, not `once`: execa's exit hook re-raises a signal that no other listener is left to handle,
    // which would kill us before nmap is stopped and the shutdown finished.
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });
  const address = server.address();
  log.info('listening', {
    address: typeof address === 'object' && address ? formatHostPort(address.address, address.port) : String(address),
    tls: webServer?.tls ?? false,
  });
  webServer?.watch();
  for (const refresher of inventories) refresher.start();
  scheduler.start();
  return await exitCode;
}

interface CloudAccess {
  readonly credentials: CloudCredentials;
  readonly caCertificates: string | undefined;
}

async function loadCloudAccess(openstack: OpenStackConfig): Promise<CloudAccess> {
  const credentials = await loadCloudCredentials({
    openstack,
    env: process.env,
    homeDir: homedir(),
    cwd: process.cwd(),
    readYamlFile: readOptionalYamlFile,
  });
  if (credentials.cacert === undefined || !credentials.verify) return { credentials, caCertificates: undefined };
  try {
    return { credentials, caCertificates: await readFile(credentials.cacert, 'utf8') };
  } catch (err) {
    const where = credentials.origins['cacert'] ?? 'cacert';
    throw new ConfigError(where, [`cannot read the CA bundle ${credentials.cacert}: ${(err as Error).message}`]);
  }
}

function createFileInventory(settings: InventoryFileConfig, state: ExporterState, log: Logger): InventoryRefresher {
  return new InventoryRefresher({
    inventory: new FileInventory({
      source: settings.path,
      read: () => readBoundedFile(settings.path, { maxBytes: settings.maxBytes, what: 'the inventory file' }),
      onParse: (parse) =>
        log.debug('inventory file parsed', {
          file: settings.path,
          bytes: parse.bytes,
          duration_seconds: parse.durationMs / 1000,
        }),
    }),
    state,
    log,
    settings: { refreshIntervalMs: settings.refreshIntervalMs, requestTimeoutMs: INVENTORY_FILE_WAIT_MS },
    kind: 'file',
  });
}

/** Ranges too large to sweep, said once: at start, and again only when a reload changes them. */
function logUnsweptRanges(config: ExporterConfig, previous: ExporterConfig | undefined, log: Logger): void {
  const describe = (c: ExporterConfig): string =>
    c.settings.scan.unsweptRanges.map((range) => [...generateRangeBlocks(range)].join('+')).join(',');
  const ranges = describe(config);
  if (ranges === '' || (previous && describe(previous) === ranges)) return;
  log.warn('target ranges larger than scan.max_targets are never swept; only their known addresses are scanned', {
    ranges,
    max_targets: config.settings.scan.maxTargets,
  });
}

/** Their modules (and undici under them) are loaded only for a config with an openstack block. */
async function connectCloud(options: {
  cloud: CloudAccess;
  openstack: OpenStackConfig;
  state: ExporterState;
  log: Logger;
  onRequest: (service: string, seconds: number) => void;
}): Promise<{ session: KeystoneSession; inventory: InventoryRefresher }> {
  const { cloud, openstack, state, log, onRequest } = options;
  const [{ KeystoneSession }, { OpenStackInventory }] = await Promise.all([
    import('./openstack/session/keystone.ts'),
    import('./openstack/inventory/openstack.ts'),
  ]);
  const session = new KeystoneSession({
    credentials: cloud.credentials,
    requestTimeoutMs: openstack.requestTimeoutMs,
    ...(cloud.caCertificates === undefined ? {} : { caCertificates: cloud.caCertificates }),
    onRequest,
  });
  const inventory = new InventoryRefresher({
    inventory: new OpenStackInventory({
      client: { getJson: (service, path, getOptions) => session.get(service, path, getOptions) },
    }),
    state,
    log,
    settings: openstack,
  });
  return { session, inventory };
}

function estimateConfigDuration(config: ExporterConfig): { estimate: ScanDurationEstimate; input: ScanDurationInput } {
  const input: ScanDurationInput = {
    scan: config.settings.scan,
    tcpPorts: config.plan.ports,
    udpPorts: config.plan.udpPorts,
    sweepAddresses: config.plan.targets.count(),
    withInventory: hasInventory(config.settings),
  };
  return { estimate: estimateScanDuration(input), input };
}

/** What --config.check prints, in the start-up log too: an operator reads it where they look first. */
function logScanDuration(config: ExporterConfig, log: Logger): void {
  const { estimate } = estimateConfigDuration(config);
  const fields = {
    rate: estimate.rate,
    ports: estimate.ports,
    sweep_seconds: estimate.sweepMs === undefined ? 'unknown' : Math.round(estimate.sweepMs / 1000),
    seconds_per_silent_known_address:
      estimate.perSilentAddressMs === undefined ? 'unknown' : estimate.perSilentAddressMs / 1000,
  };
  log.info('expected scan durations', fields);
  if (estimate.sweepMs !== undefined && estimate.sweepMs > estimate.sweepBound.ms) {
    log.warn('a sweep cannot finish within its bound at this rate', {
      ...fields,
      bound: estimate.sweepBound.setting,
      bound_seconds: estimate.sweepBound.ms / 1000,
    });
  }
  if (estimate.hostGroupMs !== undefined && estimate.hostGroupMs > config.settings.scan.tuning.hostTimeoutMs) {
    log.warn('silent addresses would pass scan.nmap.host_timeout at this rate', {
      ...fields,
      host_group: estimate.hostGroupSize,
      host_group_seconds: estimate.hostGroupMs / 1000,
    });
  }
}

/** Where the credentials came from, never what they are: safe for logs and --config.check. */
function describeCredentialSource(credentials: CloudCredentials): string {
  const { source } = credentials;
  return source.kind === 'environment'
    ? 'OS_* environment variables'
    : `cloud ${JSON.stringify(source.cloud)} in ${source.path}`;
}

async function restoreState(state: ExporterState, file: StateFile, log: Logger): Promise<void> {
  try {
    const saved = await loadState(file, new Date());
    if (!saved) return;
    state.restore(reclassifySnapshot(saved, state.config.rules, new Date()));
    log.info('restored state', { path: file.path, from: saved.scan.finishedAt });
  } catch (err) {
    // A state file we cannot use costs first-seen history, not the exporter: start empty and say why.
    log.warn('cannot restore state; starting without it', { path: file.path, err });
  }
}

function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
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

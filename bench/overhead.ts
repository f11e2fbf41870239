/**
 * What a scan cycle costs over nmap's own run: `exposure-exporter --once` against raw nmap with exactly the
 * arguments the exporter gave it (read back from the report's scan.nmap.args) and the same targets on stdin,
 * on a namespace lab of live hosts (test/lab/netns-lab.ts). nmap runs inside the lab namespace through the
 * lab's wrapper in both cases, so both pay the same `ip netns exec`. The two alternate; the figures are medians.
 *
 * Each lab host listens on 22 and two other ports from LAB_PORTS, all inside every port list this script scans,
 * so every run must find 3 open ports per host: a setting that misses one shows in the `found` column.
 *
 * Run (root: namespaces and SYN scans): npm run build && npx node bench/overhead.ts [--hosts N] [--silent N] [--runs N]
 *   [--ports default|all|N|LIST] [--max-rtt-timeout 200ms] [--max-retries N] [--host-timeout 30s] [--min-rate N]
 *   npx node bench/overhead.ts --smoke   (10 hosts, one run: checks that the script and the lab work)
 * `--exporter-only` times the exporter alone (for comparing settings); `--silent N` adds N addresses after the
 * hosts to the targets that never answer, as unused floating IPs do. `--ports N` scans the first N ports of the default list (nmap's top 1,000 and the severity table's ports).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfigText } from '../src/config/load.ts';
import { buildExporterConfig } from '../src/state/exporter-config.ts';
import { defaultConfig } from '../src/config/schema.ts';
import { parsePortSpec, renderPortSpec } from '../src/net/port-spec.ts';
import { startLab } from '../test/lab/netns-lab.ts';
import type { Lab, LabHost } from '../test/lab/netns-lab.ts';
import { describeMachine, findMedian, formatCount, formatRatio, printTable } from './measure.ts';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
/** A documentation range: only the lab's namespaces ever route it. */
const SILENT_RANGE = '198.51.100.0/24';
const MAX_HOSTS = 250;
/** Low ports, so that every list this script scans (even the first 100 of the default list) has them all. */
const LAB_PORTS = [21, 23, 25, 53, 80, 110, 111, 135, 139];
const OPEN_PER_HOST = 3;
const RUN_TIMEOUT_MS = 600_000;
const GOAL_RATIO = 1.05;

interface Options {
  readonly hosts: number;
  /** Addresses after the hosts, also in the targets, that never answer (an unused floating IP). */
  readonly silent: number;
  /** Times the exporter alone, for comparing settings; raw nmap runs once, untimed, for its found column. */
  readonly exporterOnly: boolean;
  readonly runs: number;
  readonly ports: string;
  readonly tuning: Readonly<Record<string, string>>;
  readonly smoke: boolean;
}

interface Run {
  readonly wallMs: number;
  readonly openPorts: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      hosts: { type: 'string' },
      silent: { type: 'string' },
      'exporter-only': { type: 'boolean' },
      runs: { type: 'string' },
      ports: { type: 'string' },
      'max-rtt-timeout': { type: 'string' },
      'max-retries': { type: 'string' },
      'host-timeout': { type: 'string' },
      'min-rate': { type: 'string' },
      smoke: { type: 'boolean' },
    },
    strict: true,
  });
  const smoke = values.smoke ?? false;
  const hosts = readPositiveInteger(values.hosts, '--hosts', smoke ? 10 : 100);
  const silent = values.silent === undefined ? 0 : readPositiveInteger(values.silent, '--silent', 0);
  if (hosts + silent > MAX_HOSTS)
    throw new Error(`--hosts and --silent must add up to at most ${MAX_HOSTS} (one /24 of lab addresses)`);
  const tuning: Record<string, string> = {};
  for (const key of ['max-rtt-timeout', 'max-retries', 'host-timeout', 'min-rate'] as const) {
    const value = values[key];
    if (value !== undefined) tuning[key.replaceAll('-', '_')] = value;
  }
  return {
    hosts,
    silent,
    exporterOnly: values['exporter-only'] ?? false,
    runs: readPositiveInteger(values.runs, '--runs', smoke ? 1 : 5),
    ports: values.ports ?? 'default',
    tuning,
    smoke,
  };
}

function readPositiveInteger(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

/** `default`, `all` and port lists as the config takes them; a bare count N is the first N default ports. */
function resolvePorts(setting: string): string {
  if (!/^\d+$/.test(setting) || setting.includes(',')) return setting;
  const expanded = parsePortSpec(buildExporterConfig(defaultConfig()).plan.ports);
  if (!expanded.ok) throw new Error(`the default port list is invalid: ${expanded.reason}`);
  const ports = expanded.ports.flatMap(({ first, last }) =>
    Array.from({ length: last - first + 1 }, (_, i) => first + i),
  );
  const chosen = ports.slice(0, Number(setting));
  return renderPortSpec(chosen.map((port) => ({ first: port, last: port })));
}

function labHosts(count: number): LabHost[] {
  return Array.from({ length: count }, (_, i) => ({
    ip: `198.51.100.${i + 1}`,
    ports: [22, LAB_PORTS[i % LAB_PORTS.length]!, LAB_PORTS[(i + 4) % LAB_PORTS.length]!],
  }));
}

function configYaml(lab: Lab, options: Options, ports: string): string {
  const tuning = Object.entries(options.tuning).map(([key, value]) => `    ${key}: ${value}\n`);
  return (
    'scan:\n' +
    `  targets: ["198.51.100.1-198.51.100.${options.hosts + options.silent}"]\n` +
    `  ports: ${JSON.stringify(ports)}\n` +
    '  timeout: 50m\n' +
    // Raw nmap is run with the TCP scan's arguments: the UDP pass would be a second nmap the baseline lacks.
    '  udp: {ports: none}\n' +
    '  nmap:\n' +
    `    path: ${JSON.stringify(lab.nmapPath)}\n` +
    tuning.join('') +
    'state:\n' +
    `  path: ${JSON.stringify(join(lab.dir, 'state.json'))}\n`
  );
}

/** Runs a command to its exit, stdin from `input`, stdout to a file; returns the wall time and the stdout. */
async function runTimed(
  command: string,
  args: readonly string[],
  input: string,
  stdoutPath: string,
): Promise<{ wallMs: number; stdout: string }> {
  const output = await open(stdoutPath, 'w');
  const started = performance.now();
  let stderr = '';
  let code: number | null;
  try {
    const child = spawn(command, args, { stdio: ['pipe', output.fd, 'pipe'], timeout: RUN_TIMEOUT_MS });
    child.stdin!.end(input);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
    code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
  } finally {
    await output.close();
  }
  const wallMs = performance.now() - started;
  // The exporter exits 3 when it has findings, which every lab host gives it.
  if (code !== 0 && code !== 3) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}`);
  return { wallMs, stdout: await readFile(stdoutPath, 'utf8') };
}

async function runExporter(lab: Lab, configPath: string): Promise<Run & { nmapArgs: string[] }> {
  const { wallMs, stdout } = await runTimed(
    process.execPath,
    [MAIN, '--once', '--fail-on-findings', `--config.file=${configPath}`, '--log.level=warn'],
    '',
    join(lab.dir, 'report.json'),
  );
  const report = JSON.parse(stdout) as { summary: { open_ports: number }; scan: { nmap: { args: string[] } } };
  return { wallMs, openPorts: report.summary.open_ports, nmapArgs: report.scan.nmap.args };
}

async function runNmap(lab: Lab, args: readonly string[], targets: string): Promise<Run> {
  const { wallMs, stdout } = await runTimed(lab.nmapPath, args, targets, join(lab.dir, 'nmap.xml'));
  return { wallMs, openPorts: stdout.match(/<state state="open"/g)?.length ?? 0 };
}

async function main(): Promise<void> {
  const options = readOptions();
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const ports = resolvePorts(options.ports);
  const hosts = labHosts(options.hosts);
  const expected = hosts.length * OPEN_PER_HOST;
  const lab = await startLab({ hosts, silentRange: SILENT_RANGE });
  try {
    const configPath = join(lab.dir, 'config.yml');
    const yaml = configYaml(lab, options, ports);
    await writeFile(configPath, yaml);
    const config = buildExporterConfig(parseConfigText(yaml, configPath));
    const targets = `${[...config.plan.targets.nmapTargets(4)].join('\n')}\n`;
    const portCount = parsePortSpec(config.plan.ports);
    const scanned = portCount.ok ? portCount.ports.reduce((sum, { first, last }) => sum + last - first + 1, 0) : 0;
    // One exporter run first, untimed: it tells the arguments raw nmap must get, and leaves the state file a
    // cron run would find, so every timed run restores one as it would.
    const { nmapArgs } = await runExporter(lab, configPath);
    const exporter: Run[] = [];
    const nmap: Run[] = [];
    for (let run = 0; run < options.runs; run += 1) {
      if (options.exporterOnly) {
        exporter.push(await runExporter(lab, configPath));
        if (run === 0) nmap.push(await runNmap(lab, nmapArgs, targets));
      } else if (run % 2 === 0) {
        exporter.push(await runExporter(lab, configPath));
        nmap.push(await runNmap(lab, nmapArgs, targets));
      } else {
        nmap.push(await runNmap(lab, nmapArgs, targets));
        exporter.push(await runExporter(lab, configPath));
      }
    }
    const exporterMs = findMedian(exporter.map((run) => run.wallMs));
    const nmapMs = findMedian(nmap.map((run) => run.wallMs));
    const found = (runs: readonly Run[]): string => runs.map((run) => run.openPorts).join('/');
    console.log(
      `overhead: ${formatCount(hosts.length)} lab hosts and ${formatCount(options.silent)} silent addresses, ` +
        `${formatCount(scanned)} ports, ${expected} open; ` +
        `medians of ${options.runs} alternating runs (${describeMachine()})`,
    );
    // The port list is long; its count is in the first line.
    console.log(`nmap args: ${nmapArgs.map((arg, i) => (nmapArgs[i - 1] === '-p' ? '<ports>' : arg)).join(' ')}`);
    printTable([
      ['', 'exporter --once', 'raw nmap', 'exporter/nmap'],
      ['wall time (s)', (exporterMs / 1000).toFixed(2), (nmapMs / 1000).toFixed(2), formatRatio(exporterMs, nmapMs)],
      ['open ports found, each run', found(exporter), found(nmap), ''],
    ]);
    const missed = [...exporter, ...nmap].some((run) => run.openPorts !== expected);
    console.log(
      `goal: exporter/nmap at most ${GOAL_RATIO}: ${exporterMs / nmapMs <= GOAL_RATIO ? 'met' : 'NOT met'}` +
        (missed
          ? `; some runs missed open ports (expected ${expected})`
          : `; every run found all ${expected} open ports`),
    );
    if (options.smoke && missed) throw new Error('the smoke run missed open ports');
  } finally {
    await lab.stop();
    await rm(lab.dir, { recursive: true, force: true });
  }
}

await main();

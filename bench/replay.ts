/**
 * The whole exporter on a 20,000-host scan, against python-nmap on the same nmap output.
 *
 * The built exporter (dist/main.js) runs `--once` with `scan.nmap.path` set to a fake nmap: a shell script that
 * answers the start-up probes and then cats a generated nmap 7.93 report (bench/nmap-document.ts). So the figures
 * are the exporter's own: start-up, reading and parsing nmap's stdout, building the snapshot and printing the
 * JSON report, with no scanning at all. The baseline is python-nmap (Debian's python3-nmap) parsing the same file
 * with `analyse_nmap_xml_scan`, timed inside Python (bench/python-nmap.py).
 *
 * Peak memory is the kernel's peak resident set of each process (getrusage's ru_maxrss): the exporter's is read
 * by a module preloaded with `--import`, which writes `process.resourceUsage().maxRSS` as the process exits.
 *
 * Run: npm run build && npx node bench/replay.ts [--hosts N] [--runs N]
 *      npx node bench/replay.ts --smoke   (500 hosts, one run: checks that the script and its parts work)
 * python3-nmap comes from `make bench-deps`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine, findMedian, formatCount, formatMiB, formatRatio, printTable } from './measure.ts';
import { generateScan } from './nmap-document.ts';
import type { GeneratedScan } from './nmap-document.ts';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
const PYTHON_BASELINE = new URL('./python-nmap.py', import.meta.url).pathname;
/** Debian's interpreter, the one python3-nmap installs into (a python3 earlier on PATH may not have it). */
const PYTHON = '/usr/bin/python3';
const SMOKE_HOSTS = 500;
const RUN_TIMEOUT_MS = 300_000;
const RSS_SAMPLE_MS = 20;
/** The whole --once run's peak resident set must stay under this, in decimal megabytes. */
const PEAK_RSS_GOAL_MB = 150;

interface ReplayOptions {
  readonly hosts: number;
  readonly runs: number;
  readonly smoke: boolean;
}

interface ProcessFigures {
  readonly wallMs: number;
  /** CPU time, user and system: unlike wall time, not stretched by other processes on a shared machine. */
  readonly cpuMs: number;
  readonly maxRssBytes: number;
}

interface ExporterRun extends ProcessFigures {
  /** From spawning the (fake) nmap to the end of its parsed output: reading and parsing the report. */
  readonly nmapMs: number;
  /** Peak resident set by the end of nmap's output, before the snapshot, the state file and the report. */
  readonly nmapMaxRssBytes: number;
}

interface PythonRun extends ProcessFigures {
  /** analyse_nmap_xml_scan alone, timed inside Python; cpuMs is that call's CPU time. */
  readonly parseMs: number;
}

interface Workspace {
  readonly dir: string;
  readonly configPath: string;
  readonly documentPath: string;
  readonly rssPreloadPath: string;
  readonly rssReportPath: string;
}

function readOptions(): ReplayOptions {
  const { values } = parseArgs({
    options: { hosts: { type: 'string' }, runs: { type: 'string' }, smoke: { type: 'boolean' } },
    strict: true,
  });
  const smoke = values.smoke ?? false;
  const hosts = readPositiveInteger(values.hosts, '--hosts', smoke ? SMOKE_HOSTS : 20_000);
  const runs = readPositiveInteger(values.runs, '--runs', smoke ? 1 : 5);
  return { hosts, runs, smoke };
}

function readPositiveInteger(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

function assertPrerequisites(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const probe = spawnSync(PYTHON, ['-c', 'import nmap'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`${PYTHON} cannot import nmap (python3-nmap): run make bench-deps first\n${probe.stderr ?? ''}`);
  }
}

/** The fake nmap, the config that points at it, the document, and the exporter's peak-memory reporter. */
async function prepareWorkspace(scan: GeneratedScan): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'exposure-replay-'));
  const documentPath = join(dir, 'nmap-report.xml');
  await writeFile(documentPath, scan.document);
  const nmapPath = join(dir, 'nmap');
  // The exporter first asks for the version and runs `-sn -iL -` to read nmap's capabilities (then kills it);
  // the scan itself gets its targets on stdin, which the fake reads whole before replaying the report.
  await writeFile(
    nmapPath,
    [
      '#!/bin/sh',
      'for arg in "$@"; do',
      '  case "$arg" in',
      "    --version|-V) echo 'Nmap version 7.93 ( https://nmap.org )'; exit 0 ;;",
      '    -sn) exec cat >/dev/null ;;',
      '  esac',
      'done',
      'cat >/dev/null',
      `exec cat '${documentPath}'`,
      '',
    ].join('\n'),
  );
  await chmod(nmapPath, 0o755);
  const configPath = join(dir, 'config.yml');
  await writeFile(
    configPath,
    [
      'scan:',
      `  targets: ["${scan.targetCidr}"]`,
      '  timeout: 10m',
      // The replay is of one TCP scan's XML; a UDP pass would replay it a second time.
      '  udp: {ports: none}',
      '  nmap:',
      `    path: ${JSON.stringify(nmapPath)}`,
      'state:',
      `  path: ${JSON.stringify(join(dir, 'state.json'))}`,
      // python-nmap keeps no history: what is compared is reading and reporting. bench/history.ts measures the
      // tickets, and bench/README.md gives what they add to this --once.
      'history: {enabled: false}',
      '',
    ].join('\n'),
  );
  const rssPreloadPath = join(dir, 'report-max-rss.mjs');
  const rssReportPath = join(dir, 'max-rss.json');
  // maxRSS only grows, so the sample taken just before nmap's output ends bounds the parse's peak from below
  // (within one interval); the last one, taken at exit, is the whole process's peak.
  await writeFile(
    rssPreloadPath,
    "import { writeFileSync } from 'node:fs';\n" +
      'const samples = [];\n' +
      'const sample = () => samples.push([Date.now(), process.resourceUsage().maxRSS]);\n' +
      `setInterval(sample, ${RSS_SAMPLE_MS}).unref();\n` +
      "process.on('exit', () => {\n" +
      '  sample();\n' +
      '  const cpu = process.cpuUsage();\n' +
      `  writeFileSync(${JSON.stringify(rssReportPath)}, JSON.stringify({ samples, cpuMs: (cpu.user + cpu.system) / 1000 }));\n` +
      '});\n',
  );
  return { dir, configPath, documentPath, rssPreloadPath, rssReportPath };
}

/**
 * Runs a command to its exit with a deadline and returns its stdout; stderr is kept only for the error when it
 * fails. stdout goes to a file, not a pipe: the exporter ends with process.exit() right after writing its report,
 * and Node drops what a pipe has not taken by then (a 20,000-host report is megabytes), while a file write is
 * synchronous.
 */
async function runToExit(
  command: string,
  args: readonly string[],
  stdoutPath: string,
): Promise<{ stdout: string; wallMs: number }> {
  const output = await open(stdoutPath, 'w');
  const started = performance.now();
  let code: number | null;
  let stderr = '';
  try {
    const child = spawn(command, args, { stdio: ['ignore', output.fd, 'pipe'], timeout: RUN_TIMEOUT_MS });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode));
    });
  } finally {
    await output.close();
  }
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}`);
  return { stdout: await readFile(stdoutPath, 'utf8'), wallMs };
}

async function runExporter(workspace: Workspace, scan: GeneratedScan): Promise<ExporterRun> {
  await rm(workspace.rssReportPath, { force: true });
  await rm(join(workspace.dir, 'state.json'), { force: true });
  const { stdout, wallMs } = await runToExit(
    process.execPath,
    ['--import', workspace.rssPreloadPath, MAIN, '--once', `--config.file=${workspace.configPath}`, '--log.level=warn'],
    join(workspace.dir, 'report.json'),
  );
  const report = JSON.parse(stdout) as { summary: { open_ports: number }; hosts: unknown[] };
  assertSameHosts('the exporter', report.hosts.length, report.summary.open_ports, scan);
  // The snapshot's scan times are those of the nmap run: from spawning nmap to the end of its parsed output.
  const state = JSON.parse(await readFile(join(workspace.dir, 'state.json'), 'utf8')) as {
    snapshot: { scan: { startedAt: string; finishedAt: string } };
  };
  const nmapStarted = Date.parse(state.snapshot.scan.startedAt);
  const nmapFinished = Date.parse(state.snapshot.scan.finishedAt);
  const { samples, cpuMs } = JSON.parse(await readFile(workspace.rssReportPath, 'utf8')) as {
    samples: [number, number][];
    cpuMs: number;
  };
  const maxRssKiB = (until: number): number =>
    samples.reduce((peak, [at, rss]) => (at <= until ? Math.max(peak, rss) : peak), 0);
  return {
    wallMs,
    cpuMs,
    maxRssBytes: maxRssKiB(Number.POSITIVE_INFINITY) * 1024,
    nmapMs: nmapFinished - nmapStarted,
    nmapMaxRssBytes: maxRssKiB(nmapFinished) * 1024,
  };
}

async function runPython(workspace: Workspace, scan: GeneratedScan): Promise<PythonRun> {
  const { stdout, wallMs } = await runToExit(
    PYTHON,
    [PYTHON_BASELINE, workspace.documentPath],
    join(workspace.dir, 'python.json'),
  );
  const result = JSON.parse(stdout) as {
    hosts: number;
    open_ports: number;
    seconds: number;
    cpu_seconds: number;
    max_rss_kib: number;
  };
  assertSameHosts('python-nmap', result.hosts, result.open_ports, scan);
  return {
    wallMs,
    cpuMs: result.cpu_seconds * 1000,
    maxRssBytes: result.max_rss_kib * 1024,
    parseMs: result.seconds * 1000,
  };
}

/** Both sides must read exactly the generated hosts and ports, or the comparison means nothing. */
function assertSameHosts(name: string, hosts: number, openPorts: number, scan: GeneratedScan): void {
  if (hosts !== scan.hosts || openPorts !== scan.openPorts) {
    throw new Error(
      `${name} read ${hosts} hosts and ${openPorts} open ports, expected ${scan.hosts} and ${scan.openPorts}`,
    );
  }
}

/** The two alternate, so drift in a shared machine's speed hits both alike. */
async function measure(
  workspace: Workspace,
  scan: GeneratedScan,
  runs: number,
): Promise<{ exporter: ExporterRun[]; python: PythonRun[] }> {
  const exporter: ExporterRun[] = [];
  const python: PythonRun[] = [];
  for (let run = 0; run < runs; run += 1) {
    if (run % 2 === 0) {
      exporter.push(await runExporter(workspace, scan));
      python.push(await runPython(workspace, scan));
    } else {
      python.push(await runPython(workspace, scan));
      exporter.push(await runExporter(workspace, scan));
    }
  }
  return { exporter, python };
}

function printFigures(scan: GeneratedScan, runs: number, exporter: ExporterRun[], python: PythonRun[]): void {
  console.log(
    `replay: ${formatCount(scan.hosts)} hosts, ${formatCount(scan.openPorts)} open ports, ` +
      `${formatMiB(scan.document.length)} MiB of nmap 7.93 -oX output; medians of ${runs} alternating runs, ` +
      `[min-max] (${describeMachine()})`,
  );
  const pythonParse = python.map((run) => run.parseMs);
  const pythonRss = python.map((run) => run.maxRssBytes);
  const row = (label: string, values: number[], baseline: number[], format: (value: number) => string): string[] => [
    label,
    describeSpread(values, format),
    describeSpread(baseline, format),
    formatRatio(findMedian(values), findMedian(baseline)),
  ];
  const seconds = (ms: number): string => (ms / 1000).toFixed(2);
  printTable([
    ['exporter --once against python-nmap', 'exporter', 'python-nmap', 'exporter/python'],
    row(
      'time, whole process (s)',
      exporter.map((run) => run.wallMs),
      pythonParse,
      seconds,
    ),
    row(
      'CPU time, whole process (s)',
      exporter.map((run) => run.cpuMs),
      python.map((run) => run.cpuMs),
      seconds,
    ),
    row(
      'time, reading nmap output (s)',
      exporter.map((run) => run.nmapMs),
      pythonParse,
      seconds,
    ),
    row(
      'peak RSS, whole process (MiB)',
      exporter.map((run) => run.maxRssBytes),
      pythonRss,
      formatMiB,
    ),
    row(
      'peak RSS, by the end of nmap output (MiB)',
      exporter.map((run) => run.nmapMaxRssBytes),
      pythonRss,
      formatMiB,
    ),
  ]);
  console.log(
    'python-nmap: analyse_nmap_xml_scan alone, timed in Python; its peak RSS is the whole process ' +
      `(whole process time ${describeSpread(
        python.map((run) => run.wallMs),
        seconds,
      )} s).\n` +
      'exporter: the whole process is start-up, the nmap probes, reading nmap output, the snapshot, the state file ' +
      'and the JSON report; reading nmap output is from spawning the fake nmap to the end of the parse; its CPU ' +
      "time is every thread of the process, python-nmap's that of the parse alone.",
  );
  const peakMb = findMedian(exporter.map((run) => run.maxRssBytes)) / 1e6;
  console.log(
    `goals: exporter/python time ${formatRatio(findMedian(exporter.map((run) => run.wallMs)), findMedian(pythonParse))} wall, ` +
      `${formatRatio(findMedian(exporter.map((run) => run.cpuMs)), findMedian(python.map((run) => run.cpuMs)))} CPU (at most 1); ` +
      `peak RSS ${peakMb.toFixed(1)} MB (under ${PEAK_RSS_GOAL_MB} MB), ${formatRatio(findMedian(exporter.map((run) => run.maxRssBytes)), findMedian(pythonRss))} of python-nmap's`,
  );
}

/** "median [min-max]". */
function describeSpread(values: readonly number[], format: (value: number) => string): string {
  return `${format(findMedian(values))} [${format(Math.min(...values))}-${format(Math.max(...values))}]`;
}

async function main(): Promise<void> {
  const options = readOptions();
  assertPrerequisites();
  const scan = generateScan(options.hosts);
  const workspace = await prepareWorkspace(scan);
  try {
    const { exporter, python } = await measure(workspace, scan, options.runs);
    printFigures(scan, options.runs, exporter, python);
    if (options.smoke) console.log('replay smoke run: the exporter and python-nmap both read every generated host');
  } finally {
    await rm(workspace.dir, { recursive: true, force: true });
  }
}

await main();

/**
 * Scanning VMs behind security groups that drop silently (test/lab/firewalled-fleet.ts), in one run, each figure
 * beside its baseline:
 *
 * - a sweep (`--once`, the built exporter) and a known cycle (the exporter's scanner on the known addresses)
 *   against raw nmap with the same arguments on the same addresses: goal at most 1.05×, the same exposures;
 * - the default sweep (no host discovery, min_rate) against nmap's default discovery (`host_discovery: true`);
 * - a known cycle where half the VMs admit nothing against one of as many VMs that all answer;
 * - each measured time against the duration the exporter predicts (src/scan/scan-duration.ts): goal within 25 %.
 *
 * The lab is warmed by one `nmap -sn` pass first (a fresh routed lab's first scan is about three times slower),
 * and runs alternate; figures are medians. Run as root: npm run build && npx node bench/firewall.ts [--runs N]
 * (a /24 with 12 answering and 12 silent VMs, the default 1,020 ports: about 15 minutes), or --smoke (a /28,
 * a few ports, one run: checks that the script works and times nothing).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfigText } from '../src/config/load.ts';
import { hasInventory } from '../src/config/schema.ts';
import { buildExporterConfig } from '../src/state/exporter-config.ts';
import { buildScanJob } from '../src/cycle/cycle.ts';
import { NmapScanner } from '../src/scan/nmap-scanner.ts';
import { parseNmapXml } from '../src/scan/nmap-xml.ts';
import { estimateScanDuration } from '../src/scan/scan-duration.ts';
import { buildKnownTargets } from '../src/targets/scan-plan.ts';
import { startFleet, type FleetVm } from '../test/lab/firewalled-fleet.ts';
import { readToolOutput } from '../test/support/run-tool.ts';
import { describeMachine, findMedian, formatRatio, printTable } from './measure.ts';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
const { values } = parseArgs({ options: { smoke: { type: 'boolean' }, runs: { type: 'string' } } });
const SMOKE = values.smoke === true;
const RUNS = SMOKE ? 1 : Number(values.runs ?? 3);
const RANGE = SMOKE ? '198.51.100.0/28' : '198.51.100.0/24';
const ANSWERING = SMOKE ? 2 : 12;
/** The services the answering VMs run and admit, one each: some in the severity table, 8443 and 31337 not. */
const SERVICES = [6379, 27017, 9200, 2375, 8443, 31337, 5432, 3306, 6443, 5900, 8080, 11211];
const SMOKE_PORTS = '22,80,443,2375,6379,8443,9200,27017';
const RUN_TIMEOUT_MS = 1_800_000;
const GOAL_RATIO = 1.05;
const GOAL_PREDICTION = 0.25;

/** Answering VMs spread over the range, each admitting its service (every third also ping); as many that admit nothing. */
function buildFleet(): { answering: FleetVm[]; silent: FleetVm[] } {
  const size = SMOKE ? 16 : 256;
  const step = Math.floor((size - 2) / (2 * ANSWERING));
  const address = (index: number): string => `198.51.100.${1 + index * step}`;
  const answering = Array.from({ length: ANSWERING }, (_, i): FleetVm => {
    const port = SERVICES[i % SERVICES.length]!;
    return { address: address(2 * i), listening: [port], firewall: { tcp: [port], icmp: i % 3 === 0 } };
  });
  const silent = Array.from(
    { length: ANSWERING },
    (_, i): FleetVm => ({ address: address(2 * i + 1), listening: [22, 6379], firewall: {} }),
  );
  return { answering, silent };
}

interface Timed {
  readonly ms: number;
  readonly exposures: string[];
}

async function main(): Promise<void> {
  const { answering, silent } = buildFleet();
  const expected = answering.map((vm) => `${vm.address}:${vm.listening[0]}`).sort();
  const fleet = await startFleet({ vms: [...answering, ...silent] });
  try {
    const { lab } = fleet;
    const ports = SMOKE ? `  ports: "${SMOKE_PORTS}"\n` : '';
    const configFor = async (name: string, nmap: string): Promise<string> => {
      const path = join(lab.dir, `${name}.yml`);
      await writeFile(
        path,
        `scan:\n  targets: [${JSON.stringify(RANGE)}]\n${ports}  timeout: 50m\n  udp: {ports: none}\n` +
          `  nmap: {path: ${JSON.stringify(lab.nmapPath)}${nmap}}\nstate: {path: ${JSON.stringify(join(lab.dir, `${name}.json`))}}\n`,
      );
      return path;
    };
    const sweepConfig = await configFor('sweep', '');
    const discoveryConfig = await configFor('discovery', ', host_discovery: true');
    const config = buildExporterConfig(
      parseConfigText(
        `scan:\n  targets: [${JSON.stringify(RANGE)}]\n${ports}  udp: {ports: none}\n  nmap: {path: ${JSON.stringify(lab.nmapPath)}}\n`,
        'bench.yml',
      ),
    );

    // The lab pitfall: a fresh routed lab's first scan is several times slower than the next.
    await readToolOutput('ip', ['netns', 'exec', lab.scanName, 'nmap', '-sn', '-n', RANGE], { timeoutMs: 120_000 });

    const once = async (path: string): Promise<Timed & { args: string[] }> => {
      const started = performance.now();
      const stdout = await readRun(process.execPath, [MAIN, `--config.file=${path}`, '--once'], '');
      const report = JSON.parse(stdout) as {
        scan: { nmap: { args: string[] } };
        hosts: { ip: string; ports: { port: number }[] }[];
      };
      const exposures = report.hosts.flatMap((host) => host.ports.map((port) => `${host.ip}:${port.port}`)).sort();
      return { ms: performance.now() - started, exposures, args: report.scan.nmap.args };
    };
    const raw = async (args: readonly string[], stdin: string): Promise<Timed> => {
      const started = performance.now();
      const xml = await readRun(lab.nmapPath, args, stdin);
      const ms = performance.now() - started;
      const exposures = parseNmapXml(xml).flatMap((event) =>
        event.kind === 'host'
          ? event.host.ports.filter((port) => port.state === 'open').map((port) => `${event.host.ip}:${port.port}`)
          : [],
      );
      return { ms, exposures: exposures.sort() };
    };
    const scanner = new NmapScanner({ privilege: 'root' });
    const known = async (addresses: readonly string[]): Promise<Timed & { args: readonly string[] }> => {
      const started = performance.now();
      const result = await scanner.scan(buildScanJob(config, buildKnownTargets(config.plan, addresses), 'known'), {
        signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
      });
      const exposures = result.hosts.flatMap((host) => host.openPorts.map((port) => `${host.ip}:${port.port}`)).sort();
      return { ms: performance.now() - started, exposures, args: result.nmapArgs[0] ?? [] };
    };

    const allAnswer = answering.map((vm) => vm.address);
    const halfSilent = [...answering.slice(0, ANSWERING / 2), ...silent.slice(0, ANSWERING / 2)].map(
      (vm) => vm.address,
    );
    const runs: Record<string, Timed[]> = {};
    const record = (name: string, timed: Timed): void => {
      runs[name] = [...(runs[name] ?? []), timed];
    };
    for (let run = 0; run < RUNS; run += 1) {
      const sweep = await once(sweepConfig);
      record('sweep', sweep);
      record('sweep raw', await raw(sweep.args, `${RANGE}\n`));
      record('discovery', await once(discoveryConfig));
      const knownRun = await known(allAnswer);
      record('known', knownRun);
      record('known raw', await raw(knownRun.args, `${[...allAnswer].sort(byAddress).join('\n')}\n`));
      record('known half silent', await known(halfSilent));
    }

    const median = (name: string): number => findMedian(runs[name]!.map((timed) => timed.ms));
    const found = (name: string): string => {
      const last = runs[name]!.at(-1)!.exposures;
      const want =
        name === 'known half silent' ? expected.filter((entry) => halfSilent.includes(entry.split(':')[0]!)) : expected;
      return `${last.filter((entry) => want.includes(entry)).length} of ${want.length}`;
    };
    const estimate = estimateScanDuration({
      scan: config.settings.scan,
      tcpPorts: config.plan.ports,
      udpPorts: undefined,
      sweepAddresses: config.plan.targets.count(),
      withInventory: hasInventory(config.settings),
    });
    // A VM that admits one port leaves every other unanswered: it costs nmap as much as a silent one.
    const predictedHalfSilent = halfSilent.length * estimate.perSilentAddressMs!;

    console.log(
      `firewall: ${ANSWERING} VMs each admitting one service and ${ANSWERING} admitting nothing in ${RANGE} ` +
        `(${config.plan.targets.count()} addresses), ${estimate.ports} TCP ports, min_rate ${estimate.rate}, ` +
        `${RUNS} run(s) alternating, medians (${describeMachine()})`,
    );
    printTable([
      ['', 'time (s)', 'baseline', 'baseline (s)', 'ratio', 'exposures found'],
      [
        'sweep (--once)',
        seconds(median('sweep')),
        'raw nmap, same args',
        seconds(median('sweep raw')),
        formatRatio(median('sweep'), median('sweep raw')),
        found('sweep'),
      ],
      [
        'known cycle',
        seconds(median('known')),
        'raw nmap, same args',
        seconds(median('known raw')),
        formatRatio(median('known'), median('known raw')),
        found('known'),
      ],
      [
        'sweep (--once)',
        seconds(median('sweep')),
        'host_discovery: true',
        seconds(median('discovery')),
        formatRatio(median('sweep'), median('discovery')),
        `${found('sweep')} vs ${found('discovery')}`,
      ],
      [
        'known, half silent',
        seconds(median('known half silent')),
        'known, all answer',
        seconds(median('known')),
        formatRatio(median('known half silent'), median('known')),
        found('known half silent'),
      ],
      [
        'sweep (--once)',
        seconds(median('sweep')),
        'predicted',
        seconds(estimate.sweepMs!),
        formatRatio(median('sweep'), estimate.sweepMs!),
        '',
      ],
      [
        'known, half silent',
        seconds(median('known half silent')),
        'predicted',
        seconds(predictedHalfSilent),
        formatRatio(median('known half silent'), predictedHalfSilent),
        '',
      ],
    ]);
    if (!SMOKE) {
      const goals = [
        ['sweep vs raw nmap', median('sweep') / median('sweep raw') <= GOAL_RATIO],
        ['known cycle vs raw nmap', median('known') / median('known raw') <= GOAL_RATIO],
        ['sweep vs prediction', Math.abs(median('sweep') / estimate.sweepMs! - 1) <= GOAL_PREDICTION],
        [
          'every exposure found',
          found('sweep') === `${expected.length} of ${expected.length}` && found('known') === found('sweep'),
        ],
      ] as const;
      for (const [goal, met] of goals) console.log(`goal ${goal}: ${met ? 'met' : 'NOT met'}`);
    }
    for (const name of ['sweep', 'sweep raw', 'known', 'known raw']) {
      const last = runs[name]!.at(-1)!.exposures;
      if (JSON.stringify(last) !== JSON.stringify(expected))
        throw new Error(`${name} found ${last.join(',')}, not ${expected.join(',')}`);
    }
  } finally {
    await fleet.stop();
  }
}

function byAddress(a: string, b: string): number {
  return Number(a.split('.')[3]) - Number(b.split('.')[3]);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** A command's stdout, `stdin` written to it; any exit but 0 rejects, naming the command and its stderr. */
function readRun(command: string, args: readonly string[], stdin: string): Promise<string> {
  return readToolOutput(command, args, { input: stdin, timeoutMs: RUN_TIMEOUT_MS });
}

await main();

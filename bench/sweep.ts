/**
 * What known-address cycles save on a sparse range. In one run, on one namespace lab (test/lab/netns-lab.ts: live
 * hosts on the lab's lo, every other address of the /24 routed into a blackhole, as unused floating IPs are),
 * real nmap scans the same targets twice through the exporter's own scanner and plan:
 *
 * - **known**: the live hosts only, as buildKnownTargets hands them to nmap when an inventory names them;
 * - **sweep**: the whole /24, as the exporter scans it without an inventory (and once a sweep_interval with one).
 *
 * Both must find exactly the same open ports, or the script throws. nmap's tuning is the exporter's defaults
 * (-T4, max_rtt_timeout 500ms, max_retries 2), so the figures are what a default config sees.
 *
 * Run as root: npx node bench/sweep.ts (20 live hosts in a /24: about 80 s), or --smoke (4 live hosts in a /27:
 * under 30 s, for CI). Only addresses inside the lab's namespaces are scanned: nmap runs inside the lab.
 */
import { parseConfigText } from '../src/config/load.ts';
import { buildExporterConfig } from '../src/state/exporter-config.ts';
import { buildScanJob } from '../src/cycle/cycle.ts';
import { buildKnownTargets } from '../src/targets/scan-plan.ts';
import { NmapScanner } from '../src/scan/nmap-scanner.ts';
import type { ScanResult } from '../src/scan/types.ts';
import type { ScanTargets } from '../src/targets/scan-targets.ts';
import { startLab } from '../test/lab/netns-lab.ts';
import { describeMachine, formatMs, formatRatio, printTable } from './measure.ts';

const SMOKE = process.argv.includes('--smoke');
const RANGE = SMOKE ? '198.51.100.0/27' : '198.51.100.0/24';
const LIVE_HOSTS = SMOKE ? 4 : 20;
/** Ports on each live host: standard, nonstandard and risky ones, so the join and classification have work. */
const PORT_CHOICES = [
  [22, 6379],
  [443, 2375],
  [80, 8080],
  [22, 27017, 9200],
];

async function main(): Promise<void> {
  // Live hosts spread over the range, as VMs are over a floating IP pool.
  const step = Math.floor((SMOKE ? 32 : 256) / LIVE_HOSTS);
  const hosts = Array.from({ length: LIVE_HOSTS }, (_, i) => ({
    ip: `198.51.100.${1 + i * step}`,
    ports: PORT_CHOICES[i % PORT_CHOICES.length]!,
  }));
  const lab = await startLab({ hosts, silentRange: RANGE });
  try {
    const config = buildExporterConfig(
      parseConfigText(
        `scan:\n  targets: [${JSON.stringify(RANGE)}]\n  udp: {ports: none}\n  nmap: {path: ${JSON.stringify(lab.nmapPath)}}\ninventory_file: {path: inventory.yml}\n`,
        'bench.yml',
      ),
    );
    const scanner = new NmapScanner({ privilege: 'root' });
    const scan = async (targets: ScanTargets): Promise<{ ms: number; result: ScanResult }> => {
      const started = performance.now();
      const result = await scanner.scan(buildScanJob(config, targets), { signal: AbortSignal.timeout(600_000) });
      return { ms: performance.now() - started, result };
    };
    const knownTargets = buildKnownTargets(
      config.plan,
      hosts.map((host) => host.ip),
    );
    const known = await scan(knownTargets);
    const sweep = await scan(config.plan.targets);
    const found = (result: ScanResult): string[] =>
      result.hosts.flatMap((host) => host.openPorts.map((port) => `${host.ip}:${port.port}`)).sort();
    const expected = hosts.flatMap((host) => host.ports.map((port) => `${host.ip}:${port}`)).sort();
    if (JSON.stringify(found(known.result)) !== JSON.stringify(expected))
      throw new Error(`the known cycle found ${found(known.result).join(',')}`);
    if (JSON.stringify(found(sweep.result)) !== JSON.stringify(expected))
      throw new Error(`the sweep found ${found(sweep.result).join(',')}`);
    console.log(
      `sweep: ${LIVE_HOSTS} live hosts in ${RANGE} (${config.plan.targets.count()} addresses, the rest silent), ` +
        `${expected.length} open ports, nmap -sS with the default tuning (${describeMachine()})`,
    );
    printTable([
      ['', 'known', 'sweep', 'sweep/known'],
      [
        'addresses given to nmap',
        String(known.result.targets),
        String(sweep.result.targets),
        formatRatio(sweep.result.targets, known.result.targets),
      ],
      ['wall time (ms)', formatMs(known.ms), formatMs(sweep.ms), formatRatio(sweep.ms, known.ms)],
      ['hosts up', String(known.result.hostsUp), String(sweep.result.hostsUp), ''],
      ['open ports found', String(found(known.result).length), String(found(sweep.result).length), 'same ports'],
    ]);
  } finally {
    await lab.stop();
  }
}

await main();

/**
 * What a UDP pass and a service verification pass cost against the TCP pass, timed with raw nmap on a routed
 * namespace lab (test/lab/routed-lab.ts: every host in a namespace of its own behind a router, so each host's
 * kernel rate-limits its ICMP port unreachables as a real VM's does) with real daemons
 * (test/lab/service-daemons.ts) on some hosts, nothing on most, and silent addresses routed into a blackhole.
 *
 * - **TCP pass** (the baseline): the exporter's default scan, built by its own buildNmapArgs from the default config.
 * - **UDP pass**: `-sU` on the 21 amplifier ports with the same tuning, with the exporter's retries (2), nmap's
 *   own (none given), `--max-retries 1` and `0`, and `--defeat-icmp-ratelimit`; each prints the open UDP ports it
 *   found and which of the daemons' ports it missed.
 * - **verification**: `-sV` on the open address:port pairs the TCP pass and the default UDP pass found, one nmap
 *   per set of ports (nmap takes one port list per run), the sets run at the same time, at `--version-intensity`
 *   0, 2 and 7, without and with `--script redis-info,mongodb-info,memcached-info`.
 *
 * Every figure is one run, printed with its ratio to the TCP pass. Run as root: npx node bench/udp-verify.ts
 * (20 hosts and 8 silent addresses: about 10 minutes, most of it -sV's UDP probes at intensity 7), or --smoke
 * (2 hosts, one silent address, -sV at intensity 0 only: checks that it runs, under a minute). Only addresses inside the lab's namespaces are scanned.
 */
import { parseConfigText } from '../src/config/load.ts';
import { buildExporterConfig } from '../src/state/exporter-config.ts';
import { buildScanJob } from '../src/cycle/cycle.ts';
import { buildNmapArgs } from '../src/scan/nmap-args.ts';
import { startRoutedLab } from '../test/lab/routed-lab.ts';
import { DAEMON_PORTS, SERVICE_LAB, startServiceDaemons, type DaemonPlacement } from '../test/lab/service-daemons.ts';
import { runTool } from '../test/support/run-tool.ts';
import { describeMachine, formatCount, formatRatio, printTable } from './measure.ts';

const SMOKE = process.argv.includes('--smoke');
const SCRIPTS = 'redis-info,mongodb-info,memcached-info';
const NMAP_TIMEOUT_MS = 1_800_000;

const DAEMONS: readonly DaemonPlacement[] = SMOKE ? [{ kind: 'memcached', address: '198.51.100.12' }] : SERVICE_LAB;
/** Hosts that are up (their kernel answers) with no service: most of a cloud's VMs, for UDP. */
const EMPTY_HOSTS = Array.from({ length: SMOKE ? 1 : 16 }, (_, index) => `198.51.100.${15 + index}`);
/** Addresses nobody uses, dropped by the lab's blackhole: unused floating IPs. */
const SILENT = Array.from({ length: SMOKE ? 1 : 8 }, (_, index) => `198.51.100.${200 + index}`);
const HOSTS = [...DAEMONS.map((daemon) => daemon.address), ...EMPTY_HOSTS];
const TARGETS = [...HOSTS, ...SILENT];

interface Pass {
  readonly ms: number;
  /** `address tcp|udp/port` of every port nmap reported `open` (not `open|filtered`). */
  readonly open: readonly string[];
  /** How many ports nmap could not tell from closed because no answer came: what a lost ICMP unreachable leaves. */
  readonly openFiltered: number;
}

function readPass(xml: string, ms: number): Pass {
  const open: string[] = [];
  for (const host of xml.split('<host ').slice(1)) {
    const address = /<address addr="([^"]+)"/.exec(host)?.[1] ?? '?';
    for (const match of host.matchAll(/<port protocol="(tcp|udp)" portid="(\d+)"><state state="open"/g))
      open.push(`${address} ${match[1]}/${match[2]}`);
  }
  return { ms, open: open.sort(), openFiltered: xml.match(/<state state="open\|filtered"/g)?.length ?? 0 };
}

async function runNmap(nmapPath: string, args: readonly string[], targets: readonly string[]): Promise<Pass> {
  const started = performance.now();
  const { code, stdout, stderr } = await runTool(nmapPath, [...args, '-oX', '-', '-iL', '-'], {
    input: `${targets.join('\n')}\n`,
    timeoutMs: NMAP_TIMEOUT_MS,
  });
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`nmap ${args.join(' ')} exited ${code}: ${stderr.trim()}`);
  return readPass(stdout, ms);
}

interface Verification {
  readonly ms: number;
  /** Each set's `-p` list and its own time. */
  readonly sets: readonly { readonly ports: string; readonly ms: number }[];
}

/** -sV over each set of open ports, one nmap per set, the sets at once. */
async function verify(nmapPath: string, pairs: readonly string[], extra: readonly string[]): Promise<Verification> {
  const portsByAddress = new Map<string, string[]>();
  for (const pair of pairs) {
    const [address, port] = pair.split(' ') as [string, string];
    portsByAddress.set(address, [...(portsByAddress.get(address) ?? []), port]);
  }
  const groups = new Map<string, string[]>();
  for (const [address, ports] of portsByAddress) {
    const tcp = ports.filter((port) => port.startsWith('tcp/')).map((port) => port.slice(4));
    const udp = ports.filter((port) => port.startsWith('udp/')).map((port) => port.slice(4));
    const args = [
      ...(tcp.length > 0 ? ['-sS'] : []),
      ...(udp.length > 0 ? ['-sU'] : []),
      '-p',
      [...(tcp.length > 0 ? [`T:${tcp.join(',')}`] : []), ...(udp.length > 0 ? [`U:${udp.join(',')}`] : [])].join(','),
    ];
    const key = JSON.stringify(args);
    groups.set(key, [...(groups.get(key) ?? []), address]);
  }
  const started = performance.now();
  const sets = await Promise.all(
    [...groups].map(async ([key, addresses]) => {
      const args = JSON.parse(key) as string[];
      return {
        ports: args.at(-1)!,
        ms: (await runNmap(nmapPath, ['-n', '-Pn', '-sV', ...args, ...extra], addresses)).ms,
      };
    }),
  );
  return { ms: performance.now() - started, sets };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

async function main(): Promise<void> {
  await using lab = await startRoutedLab({ addresses: HOSTS });
  await using _daemons = await startServiceDaemons({
    namespace: (address) => lab.hostNamespace(address),
    probeNamespace: lab.scanName,
    dir: lab.dir,
    daemons: DAEMONS,
  });
  const config = buildExporterConfig(
    parseConfigText(
      `scan:\n  targets: ["198.51.100.0/24"]\n  nmap: {path: ${JSON.stringify(lab.nmapPath)}}\n`,
      'bench.yml',
    ),
  );
  const job = buildScanJob(config);
  const tcpArgs = buildNmapArgs({
    family: 4,
    ports: job.ports,
    scanType: 'syn',
    privilege: 'root',
    hostDiscovery: job.hostDiscovery,
    tuning: job.tuning,
    statsEveryMs: 60_000,
  }).filter((arg, index, args) => !['-oX', '-iL'].includes(arg) && !['-oX', '-iL'].includes(args[index - 1] ?? ''));
  const { tuning } = job;
  // The UDP pass's own settings and port list, as the exporter expands `scan.udp.ports: default`.
  const udpPass = config.settings.scan.udp;
  const udpPorts = config.plan.udpPorts;
  if (!udpPass || udpPorts === undefined) throw new Error('the bench config turned the UDP pass off');
  const udpBase = [
    '-sU',
    ...(job.hostDiscovery ? [] : ['-Pn']),
    '-n',
    '--open',
    '-p',
    udpPorts,
    `-T${tuning.timingTemplate}`,
    '--max-rtt-timeout',
    `${tuning.maxRttTimeoutMs}ms`,
    '--host-timeout',
    `${tuning.hostTimeoutMs}ms`,
  ];
  const expectedUdp = DAEMONS.flatMap((daemon) =>
    DAEMON_PORTS[daemon.kind].udp.map((port) => `${daemon.address} udp/${port}`),
  ).sort();

  const tcp = await runNmap(lab.nmapPath, tcpArgs, TARGETS);
  const passFlags = [
    '--max-retries',
    String(udpPass.maxRetries),
    ...(udpPass.defeatIcmpRateLimit ? ['--defeat-icmp-ratelimit'] : []),
  ];
  const udpVariants: [string, string[]][] = [
    [`${passFlags.join(' ')} (the UDP pass's defaults)`, passFlags],
    ["nmap's own retries", []],
    [`--max-retries ${tuning.maxRetries} (scan.nmap's)`, ['--max-retries', String(tuning.maxRetries)]],
    ['--max-retries 1', ['--max-retries', '1']],
    ['--max-retries 0', ['--max-retries', '0']],
    [
      `--max-retries ${tuning.maxRetries} --defeat-icmp-ratelimit`,
      ['--max-retries', String(tuning.maxRetries), '--defeat-icmp-ratelimit'],
    ],
  ];
  const udp: [string, Pass][] = [];
  for (const [label, extra] of udpVariants)
    udp.push([label, await runNmap(lab.nmapPath, [...udpBase, ...extra], TARGETS)]);

  const pairs = [...tcp.open, ...udp[0]![1].open];
  const verifications: [string, Verification][] = [];
  for (const scripts of [false, true]) {
    for (const intensity of SMOKE ? [0] : [0, 2, 7]) {
      const extra = ['--version-intensity', String(intensity), ...(scripts ? ['--script', SCRIPTS] : [])];
      verifications.push([
        `-sV intensity ${intensity}${scripts ? ' + scripts' : ''}`,
        await verify(lab.nmapPath, pairs, extra),
      ]);
    }
  }

  console.log(
    `udp-verify: ${HOSTS.length} hosts (${DAEMONS.map((daemon) => daemon.kind).join(', ')} on one each, ${EMPTY_HOSTS.length} without services), ` +
      `${SILENT.length} silent addresses, each host in its own namespace with the kernel's ICMP rate limit; raw nmap, one run each (${describeMachine()})`,
  );
  const portCount = (tcpArgs[tcpArgs.indexOf('-p') + 1] ?? '').split(',').reduce((total, range) => {
    const [first, last] = range.split('-').map(Number) as [number, number | undefined];
    return total + (last === undefined ? 1 : last - first + 1);
  }, 0);
  console.log(
    `TCP pass: ${tcpArgs.map((arg, index) => (tcpArgs[index - 1] === '-p' ? `<the ${formatCount(portCount)} default ports>` : arg)).join(' ')}`,
  );
  console.log(`UDP pass: ${udpBase.join(' ')} …`);
  printTable([
    ['pass', 'time (s)', 'time/TCP', 'open found', 'open|filtered', 'missed'],
    ['TCP pass, default ports', seconds(tcp.ms), '1.00', String(tcp.open.length), String(tcp.openFiltered), ''],
    ...udp.map(([label, pass]) => [
      `UDP ${label}`,
      seconds(pass.ms),
      formatRatio(pass.ms, tcp.ms),
      String(pass.open.length),
      String(pass.openFiltered),
      expectedUdp.filter((port) => !pass.open.includes(port)).join(', ') || 'none',
    ]),
  ]);
  console.log(
    `verification: -sV on ${pairs.length} open pairs (${pairs.join(', ')}), one nmap per port set, the sets at once`,
  );
  printTable([
    ['pass', 'time (s)', 'time/TCP', 'sets one after another (s)', 'one after another/TCP', 'slowest set'],
    ...verifications.map(([label, run]) => {
      const sum = run.sets.reduce((total, set) => total + set.ms, 0);
      const slowest = run.sets.reduce((a, b) => (b.ms > a.ms ? b : a));
      return [
        label,
        seconds(run.ms),
        formatRatio(run.ms, tcp.ms),
        seconds(sum),
        formatRatio(sum, tcp.ms),
        `${slowest.ports} ${seconds(slowest.ms)} s`,
      ];
    }),
  ]);
}

await main();

/**
 * Re-records the UDP and service-verification fixtures of test/fixtures/nmap/ (their README lists each command)
 * against the real daemons of test/lab/service-daemons.ts, in a routed namespace lab. As root:
 * `npx node scripts/record-service-fixtures.ts`; about two minutes, most of it the UDP probes of -sV at
 * intensity 7. Only addresses inside the lab's namespaces are scanned.
 */
import { writeFile } from 'node:fs/promises';
import { startRoutedLab } from '../test/lab/routed-lab.ts';
import { DEFAULT_UDP_PORTS } from '../src/targets/udp-ports.ts';
import {
  DAEMON_PORTS,
  SERVICE_LAB,
  SERVICE_LAB_EMPTY_ADDRESS,
  startServiceDaemons,
  type DaemonKind,
} from '../test/lab/service-daemons.ts';
import { runTool } from '../test/support/run-tool.ts';

const FIXTURES = new URL('../test/fixtures/nmap/', import.meta.url).pathname;
const PLACEMENTS = SERVICE_LAB;
const EMPTY_ADDRESS = SERVICE_LAB_EMPTY_ADDRESS;
const NMAP_TIMEOUT_MS = 600_000;

async function recordNmap(nmapPath: string, file: string, args: readonly string[]): Promise<void> {
  const { code, stdout, stderr } = await runTool(nmapPath, args, { timeoutMs: NMAP_TIMEOUT_MS });
  await writeFile(`${FIXTURES}${file}`, stdout);
  console.log(`${file}: exit ${code}${stderr.trim() === '' ? '' : `, stderr: ${stderr.trim()}`}`);
}

/** -sV over one daemon's own ports: nmap takes one port list per run, so each address gets its own run. */
function buildVerifyArgs(kind: DaemonKind, address: string, intensity: number): string[] {
  const { tcp, udp } = DAEMON_PORTS[kind];
  const scanTypes = [...(tcp.length > 0 ? ['-sS'] : []), ...(udp.length > 0 ? ['-sU'] : [])];
  const ports = [
    ...(tcp.length > 0 ? [`T:${tcp.join(',')}`] : []),
    ...(udp.length > 0 ? [`U:${udp.join(',')}`] : []),
  ].join(',');
  return [
    '-n',
    '-Pn',
    '-sV',
    ...scanTypes,
    '--version-intensity',
    String(intensity),
    '-p',
    ports,
    '--script',
    'redis-info,memcached-info',
    '-oX',
    '-',
    address,
  ];
}

async function recordUdp(file: string, icmpRateLimit: boolean): Promise<void> {
  const addresses = [...PLACEMENTS.map((placement) => placement.address), EMPTY_ADDRESS];
  await using lab = await startRoutedLab({ addresses, icmpRateLimit });
  await using _daemons = await startServiceDaemons({
    namespace: (address) => lab.hostNamespace(address),
    probeNamespace: lab.scanName,
    dir: lab.dir,
    daemons: PLACEMENTS,
  });
  await recordNmap(lab.nmapPath, file, [
    '-n',
    '-sU',
    '-Pn',
    '--open',
    '-p',
    DEFAULT_UDP_PORTS,
    '-oX',
    '-',
    ...addresses,
  ]);
}

async function recordVerify(): Promise<void> {
  await using lab = await startRoutedLab({
    addresses: PLACEMENTS.map((placement) => placement.address),
    icmpRateLimit: false,
  });
  await using _daemons = await startServiceDaemons({
    namespace: (address) => lab.hostNamespace(address),
    probeNamespace: lab.scanName,
    dir: lab.dir,
    daemons: PLACEMENTS,
  });
  await Promise.all(
    [7, 0].flatMap((intensity) =>
      PLACEMENTS.map(({ kind, address }) =>
        recordNmap(
          lab.nmapPath,
          `verify-${kind}${intensity === 7 ? '' : `-intensity${intensity}`}.xml`,
          buildVerifyArgs(kind, address, intensity),
        ),
      ),
    ),
  );
}

await recordUdp('udp-services.xml', false);
await recordUdp('udp-ratelimited.xml', true);
await recordVerify();

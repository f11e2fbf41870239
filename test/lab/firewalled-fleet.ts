/**
 * VMs behind security groups, on the routed lab: each VM listens on some TCP ports and admits only some of them
 * (test/lab/routed-lab.ts drops the rest silently), as on a real OpenStack cloud. The fleet the tests use and the
 * bench's larger ones are built here, so both meet the same kind of cloud. Requires root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createLineReader } from './netns-lab.ts';
import { startRoutedLab, type HostFirewall, type RoutedLab } from './routed-lab.ts';
import { startServiceDaemons, type DaemonPlacement, type ServiceDaemons } from './service-daemons.ts';

export interface FleetVm {
  readonly address: string;
  /** TCP ports something listens on, whether or not the firewall admits them. */
  readonly listening: readonly number[];
  readonly firewall: HostFirewall;
}

export interface FleetOptions {
  readonly vms: readonly FleetVm[];
  /** Real daemons (memcached for UDP) on fleet addresses; their ports must be admitted by the VM's firewall. */
  readonly daemons?: readonly DaemonPlacement[];
  readonly lossPercent?: number;
}

export interface Fleet extends AsyncDisposable {
  readonly lab: RoutedLab;
  stop(): Promise<void>;
}

const LISTENERS_SCRIPT = new URL('./listeners.ts', import.meta.url).pathname;
const READY_TIMEOUT_MS = 20_000;

/**
 * The tests' fleet in 198.51.100.0/28, eight VMs as the first report of the miss had them: each admits only its
 * own service (some also ping), one admits nothing at all, one only ping, one admits ssh with nothing behind it.
 */
export const TEST_FLEET: readonly FleetVm[] = [
  { address: '198.51.100.1', listening: [6379], firewall: { tcp: [6379] } },
  { address: '198.51.100.2', listening: [6379], firewall: { tcp: [6379], icmp: true } },
  { address: '198.51.100.3', listening: [22, 8443], firewall: { tcp: [22, 8443] } },
  { address: '198.51.100.4', listening: [], firewall: { tcp: [11211], udp: [11211] } },
  { address: '198.51.100.5', listening: [31337], firewall: { tcp: [31337], icmp: true } },
  // The default security group: the listener behind it is never reached.
  { address: '198.51.100.6', listening: [9200], firewall: {} },
  { address: '198.51.100.7', listening: [2375], firewall: { icmp: true } },
  // Scanned and clean: ssh is admitted, nothing listens, the RST is an answer.
  { address: '198.51.100.8', listening: [], firewall: { tcp: [22] } },
];
/** memcached (TCP and UDP 11211) on the VM whose group admits both. */
export const TEST_FLEET_DAEMONS: readonly DaemonPlacement[] = [{ kind: 'memcached', address: '198.51.100.4' }];
export const TEST_FLEET_TARGETS = '198.51.100.0/28';
/** What every scan of TEST_FLEET must find: the nonstandard ports a firewall admits and something answers on. */
export const TEST_FLEET_EXPOSURES: readonly string[] = [
  '198.51.100.1 6379/tcp',
  '198.51.100.2 6379/tcp',
  '198.51.100.3 8443/tcp',
  '198.51.100.4 11211/tcp',
  '198.51.100.4 11211/udp',
  '198.51.100.5 31337/tcp',
];
/** The fleet's VMs that admit none of what listens and answer no probe: an inventory knows them, a scan hears nothing. */
export const TEST_FLEET_SILENT: readonly string[] = ['198.51.100.6', '198.51.100.7'];

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const firewalls = Object.fromEntries(options.vms.map((vm) => [vm.address, vm.firewall]));
  const lab = await startRoutedLab({
    addresses: options.vms.map((vm) => vm.address),
    firewalls,
    icmpRateLimit: false,
    ...(options.lossPercent ? { lossPercent: options.lossPercent } : {}),
  });
  const listeners: ChildProcess[] = [];
  let daemons: ServiceDaemons | undefined;
  const stop = async (): Promise<void> => {
    for (const child of listeners) child.kill('SIGKILL');
    await daemons?.stop();
    await lab.stop();
  };
  try {
    await Promise.all(
      options.vms
        .filter((vm) => vm.listening.length > 0)
        .map(async (vm) => listeners.push(await startListeners(lab.hostNamespace(vm.address), vm))),
    );
    if (options.daemons?.length) {
      daemons = await startServiceDaemons({
        namespace: (address) => lab.hostNamespace(address),
        probeNamespace: lab.scanName,
        dir: lab.dir,
        daemons: options.daemons,
      });
    }
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { lab, stop, [Symbol.asyncDispose]: stop };
}

/** One listener process per VM: a process lives in one namespace, and each VM is a namespace of its own. */
async function startListeners(namespace: string, vm: FleetVm): Promise<ChildProcess> {
  const endpoints = vm.listening.map((port) => `${vm.address}:${port}`);
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, LISTENERS_SCRIPT, ...endpoints], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const lines = createLineReader(child, () => stderr.trim() || `exit ${child.exitCode}`);
  try {
    const line = await lines.next(READY_TIMEOUT_MS, `the listeners on ${vm.address}`);
    if (line !== 'ready') throw new Error(`listeners on ${vm.address}: expected "ready", got "${line}"`);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}

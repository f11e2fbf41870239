/**
 * Real UDP and service daemons (redis-server, memcached, dnsmasq, snmpd from Debian's packages, see the Makefile)
 * run inside a network namespace, each bound to one lab address with its own throwaway config, so nmap's -sU and
 * -sV passes and the redis-info/memcached-info scripts meet the real protocols rather than a fake. Each daemon
 * runs in the foreground as a child of this process (`ip netns exec` execs it, so the child's pid is the daemon's)
 * and is ready once nmap, run from the probe namespace, sees every one of its ports open.
 *
 * The daemons are open on purpose: redis without a password and with protected mode off (so redis-info answers
 * unauthenticated), memcached with UDP on, dnsmasq answering anyone, snmpd with the community "public". That is
 * what the exporter is meant to find; none of it leaves the namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readToolOutput } from '../support/run-tool.ts';

export type DaemonKind = 'redis' | 'memcached' | 'dns' | 'snmp';

export interface DaemonPorts {
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
}

/** The service lab of the tests, the fixtures and the bench: one daemon on each of four hosts. */
export const SERVICE_LAB: readonly DaemonPlacement[] = [
  { kind: 'redis', address: '198.51.100.11' },
  { kind: 'memcached', address: '198.51.100.12' },
  { kind: 'dns', address: '198.51.100.13' },
  { kind: 'snmp', address: '198.51.100.14' },
];
/** A host of the same lab with no service: it must show no port at all. */
export const SERVICE_LAB_EMPTY_ADDRESS = '198.51.100.15';

/** The ports each daemon listens on. Redis is on a nonstandard port, as an exposed cache usually is. */
export const DAEMON_PORTS: Readonly<Record<DaemonKind, DaemonPorts>> = {
  redis: { tcp: [7777], udp: [] },
  memcached: { tcp: [11211], udp: [11211] },
  dns: { tcp: [53], udp: [53] },
  snmp: { tcp: [], udp: [161] },
};

export interface DaemonPlacement {
  readonly kind: DaemonKind;
  /** An address already on an interface of the namespace; the daemon binds to it alone. */
  readonly address: string;
}

export interface ServiceDaemonsOptions {
  /**
   * The namespace a daemon runs in: one name for all (Lab.name of test/lab/netns-lab.ts) or one per address
   * (`(address) => lab.hostNamespace(address)` of test/lab/routed-lab.ts).
   */
  readonly namespace: string | ((address: string) => string);
  /** Where nmap runs to see whether a daemon answers (RoutedLab.scanName); the daemon's own namespace unless given. */
  readonly probeNamespace?: string;
  /** An existing directory for the configs, pid files and redis's working dir (the lab's dir). */
  readonly dir: string;
  readonly daemons: readonly DaemonPlacement[];
  /** How long each daemon has to answer on all its ports; 20 s unless given. */
  readonly readyTimeoutMs?: number;
}

export interface RunningDaemon {
  readonly kind: DaemonKind;
  readonly address: string;
  readonly ports: DaemonPorts;
  readonly pid: number;
}

export interface ServiceDaemons extends AsyncDisposable {
  readonly daemons: readonly RunningDaemon[];
  /** Stops every daemon (SIGTERM, then SIGKILL after 3 s) and waits until each has exited; safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const PROBE_INTERVAL_MS = 200;
const PROBE_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const OUTPUT_TAIL_CHARS = 4_000;

interface DaemonCommand {
  readonly files: Readonly<Record<string, string>>;
  readonly argv: readonly string[];
}

function buildCommand(placement: DaemonPlacement, dir: string): DaemonCommand {
  const { kind, address } = placement;
  const base = join(dir, `${kind}-${address}`);
  switch (kind) {
    case 'redis': {
      // No persistence (save "" and no AOF) and its working dir in the lab, so nothing is written elsewhere.
      const config = [
        `bind ${address}`,
        `port ${DAEMON_PORTS.redis.tcp[0]}`,
        'protected-mode no',
        'save ""',
        'appendonly no',
        'daemonize no',
        `dir ${dir}`,
        'logfile ""',
        `pidfile ${base}.pid`,
      ];
      return { files: { [`${base}.conf`]: `${config.join('\n')}\n` }, argv: ['redis-server', `${base}.conf`] };
    }
    case 'memcached':
      // memcached 1.6 has UDP off unless -U names a port.
      return { files: {}, argv: ['memcached', '-u', 'root', '-l', address, '-p', '11211', '-U', '11211'] };
    case 'dns':
      // --conf-file=/dev/null: no system config; no --dhcp-range, so no DHCP; answers lab.test itself.
      return {
        files: {},
        argv: [
          'dnsmasq',
          '--no-daemon',
          '--conf-file=/dev/null',
          `--pid-file=${base}.pid`,
          '--bind-interfaces',
          `--listen-address=${address}`,
          '--port=53',
          '--no-resolv',
          '--no-hosts',
          '--address=/lab.test/198.51.100.99',
          '--log-facility=-',
          '-u',
          'root',
        ],
      };
    case 'snmp':
      // -C: this config only; -I -smux: no SMUX listener on TCP 199 of every address.
      return {
        files: { [`${base}.conf`]: 'rocommunity public\n' },
        argv: [
          'snmpd',
          '-f',
          '-Lo',
          '-C',
          '-c',
          `${base}.conf`,
          '-I',
          '-smux',
          '-p',
          `${base}.pid`,
          `udp:${address}:161`,
        ],
      };
  }
}

/** nmap's view of the daemon's ports from the probe namespace: true once every one of them is open. */
async function answersOnAllPorts(probeNamespace: string, daemon: DaemonPlacement): Promise<boolean> {
  const { tcp, udp } = DAEMON_PORTS[daemon.kind];
  const scanTypes = [...(tcp.length > 0 ? ['-sS'] : []), ...(udp.length > 0 ? ['-sU'] : [])];
  const ports = [...tcp.map((port) => `T:${port}`), ...udp.map((port) => `U:${port}`)].join(',');
  const xml = await readToolOutput(
    'ip',
    ['netns', 'exec', probeNamespace, 'nmap', '-n', '-Pn', ...scanTypes, '-p', ports, '-oX', '-', daemon.address],
    { timeoutMs: PROBE_TIMEOUT_MS },
  );
  const open = xml.match(/<port protocol="(tcp|udp)" portid="\d+"><state state="open"/g) ?? [];
  return open.length === tcp.length + udp.length;
}

class DaemonProcess {
  readonly placement: DaemonPlacement;
  readonly child: ChildProcess;
  #output = '';
  readonly exited: Promise<void>;

  constructor(placement: DaemonPlacement, namespace: string, argv: readonly string[]) {
    this.placement = placement;
    this.child = spawn('ip', ['netns', 'exec', namespace, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: string): void => {
      this.#output = (this.#output + chunk).slice(-OUTPUT_TAIL_CHARS);
    };
    this.child.stdout?.setEncoding('utf8').on('data', keep);
    this.child.stderr?.setEncoding('utf8').on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        keep(`\nspawn failed: ${error.message}`);
        resolve();
      });
      this.child.once('exit', () => resolve());
    });
  }

  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  describe(): string {
    return `${this.placement.kind} on ${this.placement.address}`;
  }

  describeExit(): string {
    return `${this.describe()} exited (${this.child.exitCode ?? this.child.signalCode}): ${this.#output.trim()}`;
  }

  async waitUntilReady(probeNamespace: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.hasExited) throw new Error(this.describeExit());
      if (await answersOnAllPorts(probeNamespace, this.placement)) return;
      if (Date.now() > deadline)
        throw new Error(
          `${this.describe()} did not answer on all its ports within ${timeoutMs} ms: ${this.#output.trim()}`,
        );
      await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    }
  }

  async stop(): Promise<void> {
    if (this.hasExited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

class RunningServiceDaemons implements ServiceDaemons {
  readonly #processes: readonly DaemonProcess[];
  #stopping: Promise<void> | undefined;

  constructor(processes: readonly DaemonProcess[]) {
    this.#processes = processes;
  }

  get daemons(): readonly RunningDaemon[] {
    return this.#processes.map((process) => ({
      kind: process.placement.kind,
      address: process.placement.address,
      ports: DAEMON_PORTS[process.placement.kind],
      pid: process.child.pid ?? 0,
    }));
  }

  stop(): Promise<void> {
    this.#stopping ??= Promise.all(this.#processes.map((process) => process.stop())).then(() => undefined);
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Writes each daemon's config, starts them all, and resolves once each answers on all its ports. If one fails
 * to start or answer in time, all of them are stopped and the error names the daemon and its last output.
 */
export async function startServiceDaemons(options: ServiceDaemonsOptions): Promise<ServiceDaemons> {
  const seen = new Set<string>();
  for (const daemon of options.daemons) {
    const key = `${daemon.kind} ${daemon.address}`;
    if (seen.has(key)) throw new Error(`daemons: ${key} is listed twice`);
    seen.add(key);
  }
  const commands = options.daemons.map((placement) => buildCommand(placement, options.dir));
  for (const command of commands) {
    for (const [path, text] of Object.entries(command.files)) await writeFile(path, text);
  }
  const namespaceOf = (address: string): string =>
    typeof options.namespace === 'string' ? options.namespace : options.namespace(address);
  const processes = options.daemons.map(
    (placement, index) => new DaemonProcess(placement, namespaceOf(placement.address), commands[index]!.argv),
  );
  const running = new RunningServiceDaemons(processes);
  try {
    await Promise.all(
      processes.map((process) =>
        process.waitUntilReady(
          options.probeNamespace ?? namespaceOf(process.placement.address),
          options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
        ),
      ),
    );
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}

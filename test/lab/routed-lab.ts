/**
 * A lab whose hosts sit behind a router, each in a namespace (a kernel's network stack) of its own, as VMs do, so
 * that each treats the scan the way a real host does. It exists for UDP: Linux does not rate-limit ICMP sent over
 * a loopback device, so on a lab whose hosts are on the scanner's own `lo` (test/lab/netns-lab.ts) every closed
 * UDP port answers "port unreachable" at once, and a UDP scan looks far cheaper than it is. Here the unreachables
 * cross veths and are limited by `net.ipv4.icmp_ratelimit` (one per second per destination after a short burst,
 * by default). The limit is per sending stack, which is why each host has its own: hosts sharing one namespace
 * would share one budget towards the scanner and look many times slower than a cloud's VMs.
 *
 *   scan namespace (eesvc-scan-…)        router namespace (eesvc-vm-…)            host namespace (eesvc-hN-…), one each
 *     nmap runs here                        ip_forward=1                            lo: the host's address as a /32
 *     scan0 169.254.78.1/30 ── veth ──      vm0 169.254.78.2/30                     daemons bind there
 *     198.51.100.0/24 via 169.254.78.2      rN 169.254.79.1/32 ──── veth ────────   h0, default via 169.254.79.1
 *                                           ADDRESS/32 dev rN; blackhole the rest
 *
 * Addresses without a host are dropped by the router's blackhole without RST or ICMP, like an unused floating IP.
 * A host given a firewall drops silently, with a stateful nftables input policy, what it does not admit, as an
 * OpenStack security group does (the default group admits nothing); the router can drop a share of packets at
 * random, both ways. Nothing is added to the root namespace; `nmapPath` runs nmap inside the scan namespace.
 *
 * Requires root (namespaces, raw sockets for nmap).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readToolOutput } from '../support/run-tool.ts';
import { isProcessAlive } from './netns-lab.ts';

/** The documentation range the lab's hosts and silent addresses come from; never routed anywhere real. */
export const ROUTED_LAB_RANGE = '198.51.100.0/24';
const ADDRESS_PATTERN = /^198\.51\.100\.(\d{1,3})$/;

/** What a host's security group admits from anywhere; everything else is dropped without an answer. */
export interface HostFirewall {
  readonly tcp?: readonly number[];
  readonly udp?: readonly number[];
  /** ICMP echo requests (ping), which a security group admits only with a rule of its own. */
  readonly icmp?: boolean;
}

export interface RoutedLabOptions {
  /** The host addresses, each on the lo of a namespace of its own; all inside 198.51.100.0/24. */
  readonly addresses: readonly string[];
  /** Firewalls by host address; a host without one answers every probe, as the lab always did. */
  readonly firewalls?: Readonly<Record<string, HostFirewall>>;
  /** The share of packets (0-99 %) the router drops at random, in both directions. */
  readonly lossPercent?: number;
  /**
   * Whether the hosts keep the kernel's ICMP rate limit (the default, what a real host does). Off, every
   * closed UDP port answers at once, which makes UDP recordings and assertions deterministic.
   */
  readonly icmpRateLimit?: boolean;
  readonly signal?: AbortSignal;
}

export interface RoutedLab extends AsyncDisposable {
  /** Where nmap runs. */
  readonly scanName: string;
  /** The router between the scanner and the hosts, which blackholes the addresses without a host. */
  readonly routerName: string;
  /** The namespace of the host with this address, where its daemons are to run; throws for an unknown address. */
  hostNamespace(address: string): string;
  /** Runs the real nmap inside the scan namespace with the given arguments. */
  readonly nmapPath: string;
  /** A temp dir removed by stop(); for daemon configs and the like. */
  readonly dir: string;
  readonly addresses: readonly string[];
  /** Kills everything running in both namespaces, deletes them and the dir; safe to call twice. */
  stop(): Promise<void>;
}

const PREFIX = 'eesvc';
/** `eesvc-<scan|vm|hN>-<owning pid>-<random>`: the pid tells a crashed run's leftovers from a live run's. */
const NAMESPACE_PATTERN = /^eesvc-(scan|vm|h\d+)-(\d+)-[0-9a-f]+$/;
const SCAN_LINK = 'scan0';
const VM_LINK = 'vm0';
const SCAN_TRANSIT_ADDRESS = '169.254.78.1/30';
const VM_TRANSIT_ADDRESS = '169.254.78.2/30';
const GATEWAY = '169.254.78.2';
/** The router's side of every host link; Linux allows one address on many interfaces, and each link is a /32. */
const HOST_GATEWAY = '169.254.79.1';
const HOST_LINK = 'h0';
const COMMAND_TIMEOUT_MS = 10_000;

function runIp(args: readonly string[], signal?: AbortSignal): Promise<string> {
  return readToolOutput('ip', args, { timeoutMs: COMMAND_TIMEOUT_MS, signal });
}

/** For the exit hook, which cannot await; failures are ignored because the namespace may already be gone. */
function runIpSync(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, {
      timeout: COMMAND_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return '';
  }
}

function killPids(output: string): void {
  for (const pid of output
    .split('\n')
    .map(Number)
    .filter((value) => Number.isInteger(value) && value > 0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already exited.
    }
  }
}

async function listNamespaces(): Promise<string[]> {
  return (await runIp(['netns', 'list']))
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

/** This module's namespaces, live or stale; for tests asserting that nothing leaked. */
export async function listRoutedLabNamespaces(): Promise<string[]> {
  return (await listNamespaces()).filter((name) => NAMESPACE_PATTERN.test(name));
}

async function deleteNamespace(name: string): Promise<void> {
  // A namespace outlives its name while processes remain in it, and with it the veth; kill them first.
  killPids(await runIp(['netns', 'pids', name]).catch(() => ''));
  try {
    await runIp(['netns', 'delete', name]);
  } catch (error) {
    if ((await listNamespaces()).includes(name)) throw error;
  }
}

function deleteNamespaceSync(name: string): void {
  killPids(runIpSync(['netns', 'pids', name]));
  runIpSync(['netns', 'delete', name]);
}

/** Deletes the namespaces of runs that died before they could (SIGKILL); live runs' namespaces are left alone. */
async function sweepStaleNamespaces(): Promise<void> {
  for (const name of await listRoutedLabNamespaces()) {
    const owner = Number(NAMESPACE_PATTERN.exec(name)?.[2]);
    if (!isProcessAlive(owner)) await deleteNamespace(name);
  }
}

function validateAddresses(addresses: readonly string[]): void {
  if (addresses.length === 0) throw new Error('addresses: at least one address is required');
  const seen = new Set<string>();
  addresses.forEach((address, index) => {
    const last = Number(ADDRESS_PATTERN.exec(address)?.[1]);
    if (!(last >= 1 && last <= 254))
      throw new Error(`addresses[${index}]: "${address}" is not a host address inside ${ROUTED_LAB_RANGE}`);
    if (seen.has(address)) throw new Error(`addresses[${index}]: "${address}" is listed twice`);
    seen.add(address);
  });
}

// A process-wide registry is unavoidable: the exit hook has no other way to find labs a failing run never stopped.
const activeLabs = new Set<RoutedNamespaces>();
function destroyAllSync(): void {
  for (const lab of activeLabs) lab.destroySync();
}

class RoutedNamespaces implements RoutedLab {
  readonly scanName: string;
  readonly routerName: string;
  readonly dir: string;
  readonly nmapPath: string;
  readonly addresses: readonly string[];
  readonly #hostNames: ReadonlyMap<string, string>;
  #stopping: Promise<void> | undefined;

  constructor(suffix: string, dir: string, addresses: readonly string[]) {
    this.scanName = `${PREFIX}-scan-${suffix}`;
    this.routerName = `${PREFIX}-vm-${suffix}`;
    this.dir = dir;
    this.nmapPath = join(dir, 'nmap');
    this.addresses = addresses;
    this.#hostNames = new Map(addresses.map((address, index) => [address, `${PREFIX}-h${index}-${suffix}`]));
  }

  hostNamespace(address: string): string {
    const name = this.#hostNames.get(address);
    if (name === undefined) throw new Error(`${address} is not a host of routed lab ${this.routerName}`);
    return name;
  }

  #allNamespaces(): string[] {
    return [this.scanName, this.routerName, ...this.#hostNames.values()];
  }

  async build(options: RoutedLabOptions): Promise<void> {
    const { signal } = options;
    const scan = ['-n', this.scanName];
    const vm = ['-n', this.routerName];
    for (const name of this.#allNamespaces()) {
      await runIp(['netns', 'add', name], signal);
      await runIp(['-n', name, 'link', 'set', 'lo', 'up'], signal);
    }
    // Created inside the scan namespace with the peer put straight into the router: the root namespace never sees it.
    await runIp(
      [...scan, 'link', 'add', SCAN_LINK, 'type', 'veth', 'peer', 'name', VM_LINK, 'netns', this.routerName],
      signal,
    );
    await runIp([...scan, 'addr', 'add', SCAN_TRANSIT_ADDRESS, 'dev', SCAN_LINK], signal);
    await runIp([...vm, 'addr', 'add', VM_TRANSIT_ADDRESS, 'dev', VM_LINK], signal);
    await runIp([...scan, 'link', 'set', SCAN_LINK, 'up'], signal);
    await runIp([...vm, 'link', 'set', VM_LINK, 'up'], signal);
    // Via a gateway, so nmap sees a routed target and does not ARP-ping a local segment.
    await runIp([...scan, 'route', 'add', ROUTED_LAB_RANGE, 'via', GATEWAY, 'dev', SCAN_LINK], signal);
    let index = 0;
    for (const [address, name] of this.#hostNames) {
      const routerLink = `r${index++}`;
      const host = ['-n', name];
      await runIp([...vm, 'link', 'add', routerLink, 'type', 'veth', 'peer', 'name', HOST_LINK, 'netns', name], signal);
      await runIp([...vm, 'addr', 'add', `${HOST_GATEWAY}/32`, 'dev', routerLink], signal);
      await runIp([...vm, 'link', 'set', routerLink, 'up'], signal);
      await runIp([...vm, 'route', 'add', `${address}/32`, 'dev', routerLink], signal);
      await runIp([...host, 'addr', 'add', `${address}/32`, 'dev', 'lo'], signal);
      await runIp([...host, 'link', 'set', HOST_LINK, 'up'], signal);
      await runIp([...host, 'route', 'add', 'default', 'via', HOST_GATEWAY, 'dev', HOST_LINK, 'onlink'], signal);
      if (options.icmpRateLimit === false) await this.#sysctl(name, 'net.ipv4.icmp_ratelimit=0', signal);
      const firewall = options.firewalls?.[address];
      if (firewall) await runNft(name, buildFirewallRules(firewall), signal);
    }
    if (options.lossPercent) await runNft(this.routerName, buildLossRules(options.lossPercent), signal);
    // The hosts' /32 routes are more specific and win; with forwarding on, the blackhole is what drops the rest,
    // silently (with forwarding off the kernel would answer ICMP host unreachable instead).
    await this.#sysctl(this.routerName, 'net.ipv4.ip_forward=1', signal);
    await runIp([...vm, 'route', 'add', 'blackhole', ROUTED_LAB_RANGE], signal);
    await writeFile(this.nmapPath, `#!/bin/sh\nexec ip netns exec ${this.scanName} nmap "$@"\n`);
    await chmod(this.nmapPath, 0o755);
  }

  async #sysctl(namespace: string, setting: string, signal: AbortSignal | undefined): Promise<void> {
    await readToolOutput('ip', ['netns', 'exec', namespace, 'sysctl', '-q', '-w', setting], {
      timeoutMs: COMMAND_TIMEOUT_MS,
      signal,
    });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #stop(): Promise<void> {
    const results = await Promise.allSettled(this.#allNamespaces().map((name) => deleteNamespace(name)));
    await rm(this.dir, { recursive: true, force: true });
    activeLabs.delete(this);
    if (activeLabs.size === 0) process.off('exit', destroyAllSync);
    const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (errors.length > 0) throw new AggregateError(errors, `routed lab ${this.routerName}: cleanup incomplete`);
  }

  destroySync(): void {
    for (const name of this.#allNamespaces()) deleteNamespaceSync(name);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A security group as nftables rules: stateful (answers to the host's own traffic pass), admitting only the
 * listed ports and, if asked, ping; the host's own loopback traffic is not the group's business.
 */
export function buildFirewallRules(firewall: HostFirewall): string {
  const admit = [
    ...(firewall.tcp?.length ? [`tcp dport { ${firewall.tcp.join(', ')} } accept`] : []),
    ...(firewall.udp?.length ? [`udp dport { ${firewall.udp.join(', ')} } accept`] : []),
    ...(firewall.icmp ? ['icmp type echo-request accept'] : []),
  ];
  return [
    'table inet security_group {',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    ct state established,related accept',
    '    iifname "lo" accept',
    ...admit.map((rule) => `    ${rule}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Random loss on everything the router forwards, which is both directions of every probe. */
function buildLossRules(percent: number): string {
  if (!Number.isInteger(percent) || percent < 0 || percent > 99)
    throw new Error(`lossPercent: ${percent} is not an integer from 0 to 99`);
  return `table inet loss {\n  chain forward {\n    type filter hook forward priority filter; policy accept;\n    numgen random mod 100 < ${percent} drop\n  }\n}\n`;
}

function runNft(namespace: string, rules: string, signal: AbortSignal | undefined): Promise<string> {
  return readToolOutput('ip', ['netns', 'exec', namespace, 'nft', '-f', '-'], {
    timeoutMs: COMMAND_TIMEOUT_MS,
    signal,
    input: rules,
  });
}

/** Builds both namespaces and the nmap wrapper; on any failure, tears down what was built and rethrows. */
export async function startRoutedLab(options: RoutedLabOptions): Promise<RoutedLab> {
  validateAddresses(options.addresses);
  await sweepStaleNamespaces();
  const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const lab = new RoutedNamespaces(suffix, await mkdtemp(join(tmpdir(), `${PREFIX}-vm-${suffix}-`)), [
    ...options.addresses,
  ]);
  if (activeLabs.size === 0) process.on('exit', destroyAllSync);
  activeLabs.add(lab);
  try {
    await lab.build(options);
  } catch (error) {
    await lab.stop().catch(() => undefined);
    throw error;
  }
  return lab;
}

/**
 * A multi-host lab in two network namespaces, for integration tests that run real nmap against something that
 * behaves like a cloud subnet:
 *
 *   lab namespace (eelab-…)                               hole namespace (eehole-…)
 *     lo: 127.0.0.1, every host IP as a /32, listeners       ip_forward=1
 *     lab0 169.254.77.1/30  ──────── veth ────────────────   hole0 169.254.77.2/30
 *     route <silentRange> via 169.254.77.2                   blackhole <silentRange>
 *
 * Addresses with a "VM" answer from lo; every other address in the silent range is routed to the hole namespace
 * and dropped there without RST or ICMP unreachable, which is what an unused floating IP does on a real cloud.
 * The route goes via a gateway rather than straight onto the veth so nmap sees a routed target and sends IP
 * probes to the gateway's MAC, as it would in production, instead of ARP-pinging a local segment.
 *
 * nmap only ever runs inside the lab namespace: `lab.nmapPath` is a wrapper script doing `ip netns exec`, meant
 * to be given to the exporter as its nmap path. Nothing is added to the root namespace.
 *
 * Requires root (CAP_SYS_ADMIN for namespaces, CAP_NET_RAW for nmap -sS).
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readToolOutput } from '../support/run-tool.ts';

export interface LabHost {
  readonly ip: string;
  readonly ports: readonly number[];
}

export interface LabOptions {
  readonly hosts: readonly LabHost[];
  /** IPv4 CIDR that stays silent except for the hosts, e.g. a documentation range such as 198.51.100.0/24. */
  readonly silentRange: string;
  /** Aborts the `ip` calls that build the lab; the lab is then torn down and startLab rejects. */
  readonly signal?: AbortSignal;
}

export interface Lab extends AsyncDisposable {
  /** The lab namespace, where the hosts live and nmap runs. */
  readonly name: string;
  /** The namespace that swallows traffic to addresses without a host. */
  readonly holeName: string;
  /** An executable that runs the real nmap inside the lab namespace with the given arguments. */
  readonly nmapPath: string;
  /** A temp dir owned by the lab and removed by stop(); tests may put their own files here. */
  readonly dir: string;
  readonly hosts: readonly LabHost[];
  readonly silentRange: string;
  closeListener(ip: string, port: number): Promise<void>;
  openListener(ip: string, port: number): Promise<void>;
  /** Kills the listeners and anything else still running in the namespaces, deletes both; safe to call twice. */
  stop(): Promise<void>;
}

const LAB_PREFIX = 'eelab';
const HOLE_PREFIX = 'eehole';
/** `<prefix>-<owning pid>-<random>`: the pid lets a later run tell a crashed run's leftovers from a live one. */
const NAMESPACE_PATTERN = /^(eelab|eehole)-(\d+)-[0-9a-f]+$/;

// Interface names are per namespace and the veth is created inside the lab namespace, so fixed short names
// cannot collide between concurrent labs.
const LAB_LINK = 'lab0';
const HOLE_LINK = 'hole0';
const TRANSIT_PREFIX = '169.254.77.0/30';
const LAB_TRANSIT_ADDRESS = '169.254.77.1/30';
const HOLE_TRANSIT_ADDRESS = '169.254.77.2/30';
const GATEWAY = '169.254.77.2';

const COMMAND_TIMEOUT_MS = 10_000;
const LISTENER_READY_TIMEOUT_MS = 20_000;
const LISTENER_ACK_TIMEOUT_MS = 5_000;
const LISTENER_EXIT_TIMEOUT_MS = 3_000;

const LISTENERS_SCRIPT = new URL('./listeners.ts', import.meta.url).pathname;

// ---------------------------------------------------------------------------------------------------------------
// Subprocesses

interface RunOptions {
  readonly signal?: AbortSignal | undefined;
}

function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return readToolOutput(file, args, { timeoutMs: COMMAND_TIMEOUT_MS, signal: options.signal });
}

function runIp(args: readonly string[], options: RunOptions = {}): Promise<string> {
  return runCommand('ip', args, options);
}

/** The exit hook cannot await, so cleanup there uses synchronous calls; failures are ignored. */
function runIpSync(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, {
      timeout: COMMAND_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    // Best effort: the namespace may already be gone.
    return '';
  }
}

function parsePids(output: string): number[] {
  return output
    .split('\n')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already exited.
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Namespaces

async function listNamespaces(): Promise<string[]> {
  const output = await runIp(['netns', 'list']);
  // Lines look like "eelab-123-abcdef (id: 0)" or just "eelab-123-abcdef".
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means it exists but belongs to someone else; only ESRCH means gone.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function killNamespaceProcesses(name: string): Promise<void> {
  // Whatever still runs here was started by this lab (the listeners, nmap through the wrapper).
  killPids(parsePids(await runIp(['netns', 'pids', name]).catch(() => '')));
}

function deleteNamespaceSync(name: string): void {
  killPids(parsePids(runIpSync(['netns', 'pids', name])));
  runIpSync(['netns', 'delete', name]);
}

async function deleteNamespace(name: string): Promise<void> {
  // A namespace outlives its name while processes remain in it, and with it the veth; kill them first.
  await killNamespaceProcesses(name);
  try {
    await runIp(['netns', 'delete', name]);
  } catch (error) {
    if (!(await listNamespaces()).includes(name)) return;
    throw error;
  }
}

function isStale(name: string): boolean {
  const match = NAMESPACE_PATTERN.exec(name);
  return match !== null && !isProcessAlive(Number(match[2]));
}

/** Temp dirs are named `<lab namespace>-<mkdtemp suffix>`. */
async function removeStaleTempDirs(): Promise<void> {
  for (const entry of await readdir(tmpdir())) {
    const namespace = entry.slice(0, entry.lastIndexOf('-'));
    if (namespace.startsWith(`${LAB_PREFIX}-`) && isStale(namespace)) {
      await rm(join(tmpdir(), entry), { recursive: true, force: true });
    }
  }
}

/**
 * Deletes namespaces (and temp dirs) with this harness's prefixes whose owning process no longer exists: a run
 * that was SIGKILLed before its exit hook ran. Namespaces of live runs, and any other namespace, are left alone.
 * Returns the namespace names it deleted.
 */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const stale = (await listNamespaces()).filter(isStale);
  for (const name of stale) await deleteNamespace(name);
  await removeStaleTempDirs();
  return stale;
}

/** Lists this harness's namespaces, live or stale; for tests asserting that nothing leaked. */
export async function listLabNamespaces(): Promise<string[]> {
  return (await listNamespaces()).filter((name) => NAMESPACE_PATTERN.test(name));
}

function buildNamespaceNames(): { lab: string; hole: string } {
  const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
  return { lab: `${LAB_PREFIX}-${suffix}`, hole: `${HOLE_PREFIX}-${suffix}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation (IPv4 only: the lab is for the common floating-IP case)

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

interface Ipv4Block {
  readonly first: number;
  readonly last: number;
}

function parseIpv4Block(cidr: string): Ipv4Block | undefined {
  const [address, lengthText] = cidr.split('/');
  const base = parseIpv4(address ?? '');
  const length = Number(lengthText);
  if (base === undefined || !/^\d{1,2}$/.test(lengthText ?? '') || length > 32) return undefined;
  const size = 2 ** (32 - length);
  const first = base - (base % size);
  return { first, last: first + size - 1 };
}

function overlaps(a: Ipv4Block, b: Ipv4Block): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** An `ip route` destination: a prefix, or a bare address meaning /32. */
function parseRouteDestination(token: string): Ipv4Block | undefined {
  return parseIpv4Block(token.includes('/') ? token : `${token}/32`);
}

/**
 * The lab must not reuse a range the calling namespace routes somewhere real. Inside the lab it would work, but
 * then a test that by mistake ran nmap or a connect from here, instead of through `nmapPath`, would probe a real
 * network segment rather than fail. On the VM this harness was written on, eth0 itself is 192.0.2.2/24.
 */
async function assertRangeUnrouted(silentRange: string, options: RunOptions): Promise<void> {
  const range = parseIpv4Block(silentRange) as Ipv4Block;
  const output = await runIp(['-4', 'route', 'show', 'table', 'all'], options);
  for (const line of output.split('\n')) {
    // The destination is the first token, or the second after a type: "192.0.2.0/24 dev eth0", "local 192.0.2.2 …".
    const destination = line
      .trim()
      .split(/\s+/)
      .slice(0, 2)
      .find((token) => parseRouteDestination(token));
    const block = destination === undefined ? undefined : parseRouteDestination(destination);
    if (block !== undefined && !destination?.startsWith('127.') && overlaps(range, block)) {
      throw new Error(
        `silentRange: "${silentRange}" overlaps ${destination}, which this namespace already routes; pick ` +
          'another documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)',
      );
    }
  }
}

function validateOptions(options: LabOptions): void {
  const range = parseIpv4Block(options.silentRange);
  if (range === undefined) throw new Error(`silentRange: "${options.silentRange}" is not an IPv4 CIDR`);
  // 127/8 would be answered by lo itself and never be silent; the transit /30 carries the route.
  for (const reserved of ['127.0.0.0/8', TRANSIT_PREFIX]) {
    if (overlaps(range, parseIpv4Block(reserved) as Ipv4Block)) {
      throw new Error(`silentRange: "${options.silentRange}" overlaps ${reserved}`);
    }
  }
  if (options.hosts.length === 0) throw new Error('hosts: at least one host is required');
  const seen = new Set<string>();
  options.hosts.forEach((host, index) => {
    const address = parseIpv4(host.ip);
    if (address === undefined || address < range.first || address > range.last) {
      throw new Error(`hosts[${index}]: "${host.ip}" is not an IPv4 address inside ${options.silentRange}`);
    }
    if (seen.has(host.ip)) throw new Error(`hosts[${index}]: "${host.ip}" is listed twice`);
    seen.add(host.ip);
    for (const port of host.ports) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`hosts[${index}]: port ${port} is not in 1-65535`);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Listener process

/** Hands out stdout lines of a child one at a time, with a deadline for each. */
export interface LineReader {
  next(timeoutMs: number, waitingFor: string): Promise<string>;
}

export function createLineReader(child: ChildProcessWithoutNullStreams, describeFailure: () => string): LineReader {
  const lines: string[] = [];
  const waiters: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let closed = false;

  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter === undefined) lines.push(line);
    else waiter.resolve(line);
  });
  const fail = (): void => {
    closed = true;
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`listener process exited: ${describeFailure()}`));
  };
  // 'close' may never come when the spawn itself fails, hence 'error' as well.
  child.once('close', fail);
  child.once('error', fail);

  return {
    next(timeoutMs, waitingFor) {
      const buffered = lines.shift();
      if (buffered !== undefined) return Promise.resolve(buffered);
      if (closed) return Promise.reject(new Error(`listener process exited: ${describeFailure()}`));
      return new Promise((resolve, reject) => {
        const waiter = {
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
          reject: (error: Error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no answer from listener process within ${timeoutMs} ms waiting for ${waitingFor}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}

function buildListenerArgs(hosts: readonly LabHost[]): string[] {
  return hosts.flatMap((host) => host.ports.map((port) => `${host.ip}:${port}`));
}

function waitForExit(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup on exit

// A process-wide registry is unavoidable here: the exit hook has no other way to find labs a failing test
// never stopped. Signal handlers are installed only while a lab exists, so importing this module changes nothing.
const activeLabs = new Set<NetnsLab>();

function cleanUpAllSync(): void {
  for (const lab of activeLabs) lab.destroySync();
}

function handleFatalSignal(signal: NodeJS.Signals): void {
  cleanUpAllSync();
  removeExitHooks();
  // Re-raise so the process still dies of the signal it was sent, with the default disposition.
  process.kill(process.pid, signal);
}

function installExitHooks(): void {
  process.on('exit', cleanUpAllSync);
  process.on('SIGINT', handleFatalSignal);
  process.on('SIGTERM', handleFatalSignal);
}

function removeExitHooks(): void {
  process.off('exit', cleanUpAllSync);
  process.off('SIGINT', handleFatalSignal);
  process.off('SIGTERM', handleFatalSignal);
}

function registerLab(lab: NetnsLab): void {
  if (activeLabs.size === 0) installExitHooks();
  activeLabs.add(lab);
}

function unregisterLab(lab: NetnsLab): void {
  activeLabs.delete(lab);
  if (activeLabs.size === 0) removeExitHooks();
}

// ---------------------------------------------------------------------------------------------------------------
// The lab

interface NetnsLabInit {
  readonly name: string;
  readonly holeName: string;
  readonly dir: string;
  readonly hosts: readonly LabHost[];
  readonly silentRange: string;
}

class NetnsLab implements Lab {
  readonly name: string;
  readonly holeName: string;
  readonly dir: string;
  readonly nmapPath: string;
  readonly hosts: readonly LabHost[];
  readonly silentRange: string;
  #listener: ChildProcessWithoutNullStreams | undefined;
  #lines: LineReader | undefined;
  #listenerStderr = '';
  /** Serialises listener commands: acks carry no id, so only one command may be in flight. */
  #commands: Promise<unknown> = Promise.resolve();
  #stopping: Promise<void> | undefined;

  constructor(init: NetnsLabInit) {
    this.name = init.name;
    this.holeName = init.holeName;
    this.dir = init.dir;
    this.nmapPath = join(init.dir, 'nmap');
    this.hosts = init.hosts;
    this.silentRange = init.silentRange;
  }

  async createNetwork(options: RunOptions): Promise<void> {
    const lab = ['-n', this.name];
    const hole = ['-n', this.holeName];
    await runIp(['netns', 'add', this.name], options);
    await runIp(['netns', 'add', this.holeName], options);
    await runIp([...lab, 'link', 'set', 'lo', 'up'], options);
    for (const host of this.hosts) await runIp([...lab, 'addr', 'add', `${host.ip}/32`, 'dev', 'lo'], options);
    // Created inside the lab namespace with the peer put straight into the hole: the root namespace never sees it.
    const peer = ['peer', 'name', HOLE_LINK, 'netns', this.holeName];
    await runIp([...lab, 'link', 'add', LAB_LINK, 'type', 'veth', ...peer], options);
    await runIp([...lab, 'addr', 'add', LAB_TRANSIT_ADDRESS, 'dev', LAB_LINK], options);
    await runIp([...hole, 'addr', 'add', HOLE_TRANSIT_ADDRESS, 'dev', HOLE_LINK], options);
    await runIp([...lab, 'link', 'set', LAB_LINK, 'up'], options);
    await runIp([...hole, 'link', 'set', HOLE_LINK, 'up'], options);
    // The host /32s on lo are in the local table and win over this route, so only addresses without a host go out.
    await runIp([...lab, 'route', 'add', this.silentRange, 'via', GATEWAY, 'dev', LAB_LINK], options);
    // With forwarding off the hole would drop the packets anyway; turning it on makes the blackhole route the
    // thing that drops them, which is explicit and shows up in `ip route`.
    await runCommand('ip', ['netns', 'exec', this.holeName, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], options);
    await runIp([...hole, 'route', 'add', 'blackhole', this.silentRange], options);
  }

  async writeNmapWrapper(): Promise<void> {
    await writeFile(this.nmapPath, `#!/bin/sh\nexec ip netns exec ${this.name} nmap "$@"\n`);
    await chmod(this.nmapPath, 0o755);
  }

  async startListeners(): Promise<void> {
    const child = spawn(
      'ip',
      ['netns', 'exec', this.name, process.execPath, LISTENERS_SCRIPT, ...buildListenerArgs(this.hosts)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.#listener = child;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.#listenerStderr = (this.#listenerStderr + chunk).slice(-4096);
    });
    // Writing to a listener that died must surface as a failed ack, not as an unhandled EPIPE.
    child.stdin.on('error', () => undefined);
    child.once('error', (error) => {
      this.#listenerStderr += `\nspawn failed: ${error.message}`;
    });
    this.#lines = createLineReader(child, () => this.#listenerStderr.trim() || `exit ${child.exitCode}`);
    const line = await this.#lines.next(LISTENER_READY_TIMEOUT_MS, 'ready');
    if (line !== 'ready') throw new Error(`listener process: expected "ready", got "${line}"`);
  }

  closeListener(ip: string, port: number): Promise<void> {
    return this.#sendCommand(`close ${ip} ${port}`);
  }

  openListener(ip: string, port: number): Promise<void> {
    return this.#sendCommand(`open ${ip} ${port}`);
  }

  #sendCommand(command: string): Promise<void> {
    const run = async (): Promise<void> => {
      const listener = this.#listener;
      const lines = this.#lines;
      if (listener === undefined || lines === undefined || this.#stopping !== undefined) {
        throw new Error(`lab ${this.name} is not running`);
      }
      listener.stdin.write(`${command}\n`);
      const answer = await lines.next(LISTENER_ACK_TIMEOUT_MS, command);
      if (answer !== `ok ${command}`) throw new Error(`listener process: ${answer}`);
    };
    const result = this.#commands.then(run, run);
    this.#commands = result.catch(() => undefined);
    return result;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #stop(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (step: () => Promise<void>): Promise<void> => {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    };
    await attempt(() => this.#stopListeners());
    await attempt(() => deleteNamespace(this.name));
    await attempt(() => deleteNamespace(this.holeName));
    await attempt(() => rm(this.dir, { recursive: true, force: true }));
    unregisterLab(this);
    if (errors.length > 0) throw new AggregateError(errors, `lab ${this.name}: cleanup incomplete`);
  }

  async #stopListeners(): Promise<void> {
    const child = this.#listener;
    if (child === undefined) return;
    // Closing stdin is the polite stop; SIGKILL if it does not take.
    child.stdin.end();
    if (await waitForExit(child, LISTENER_EXIT_TIMEOUT_MS)) return;
    child.kill('SIGKILL');
    await waitForExit(child, LISTENER_EXIT_TIMEOUT_MS);
  }

  /** For the exit hook: synchronous, best effort, never throws. */
  destroySync(): void {
    this.#listener?.kill('SIGKILL');
    deleteNamespaceSync(this.name);
    deleteNamespaceSync(this.holeName);
    rmSync(this.dir, { recursive: true, force: true });
    activeLabs.delete(this);
  }
}

/**
 * Builds the namespaces, starts the listeners and writes the nmap wrapper. On any failure everything already
 * created is torn down before the error is rethrown.
 */
export async function startLab(options: LabOptions): Promise<Lab> {
  validateOptions(options);
  await assertRangeUnrouted(options.silentRange, { signal: options.signal });
  await sweepStaleNamespaces();
  const names = buildNamespaceNames();
  const dir = await mkdtemp(join(tmpdir(), `${names.lab}-`));
  const lab = new NetnsLab({
    name: names.lab,
    holeName: names.hole,
    dir,
    hosts: options.hosts.map((host) => ({ ip: host.ip, ports: [...host.ports] })),
    silentRange: options.silentRange,
  });
  registerLab(lab);
  try {
    await lab.createNetwork({ signal: options.signal });
    await lab.writeNmapWrapper();
    await lab.startListeners();
  } catch (error) {
    await lab.stop().catch(() => undefined);
    throw error;
  }
  return lab;
}

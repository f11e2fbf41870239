/**
 * Smoke test of the network-namespace lab: real nmap, through the wrapper an exporter would be given, sees
 * exactly the lab's hosts and ports, silent addresses stay silent, and nothing is left behind.
 * Needs root; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { isProcessAlive, listLabNamespaces, startLab, type Lab, type LabHost } from '../lab/netns-lab.ts';
import { readToolOutput } from '../support/run-tool.ts';

const HOSTS: readonly LabHost[] = [
  { ip: '198.51.100.10', ports: [22, 80, 6379] },
  { ip: '198.51.100.11', ports: [443, 27017, 8080] },
  { ip: '198.51.100.12', ports: [2375] },
];
const SILENT_RANGE = '198.51.100.0/24';
const PORTS = [22, 80, 443, 2375, 6379, 8080, 27017];
const PORT_LIST = PORTS.join(',');
const NMAP_TIMEOUT_MS = 60_000;

interface ScannedHost {
  readonly ip: string;
  readonly state: string;
  readonly reason: string;
  /** port → nmap state ("open", "closed", …) */
  readonly ports: ReadonlyMap<number, string>;
}

interface Listener {
  readonly address: string;
  readonly port: number;
  readonly pids: readonly number[];
}

function run(file: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return readToolOutput(file, args, { timeoutMs });
}

async function runTimedScan(lab: Lab, args: readonly string[]): Promise<{ xml: string; ms: number }> {
  const started = performance.now();
  const xml = await run(lab.nmapPath, ['-n', '-sS', '-oX', '-', ...args], NMAP_TIMEOUT_MS);
  return { xml, ms: Math.round(performance.now() - started) };
}

// Deliberately minimal: enough of nmap's XML to assert on; the real parser lives in src/scan/nmap-xml.ts.
function parseHosts(xml: string): ScannedHost[] {
  return [...xml.matchAll(/<host\b[^>]*>([\s\S]*?)<\/host>/g)].map(([, body = '']) => ({
    ip: /<address addr="([^"]+)" addrtype="ipv4"\/>/.exec(body)?.[1] ?? '',
    state: /<status state="(\w+)"/.exec(body)?.[1] ?? '',
    reason: /<status state="\w+" reason="([\w-]+)"/.exec(body)?.[1] ?? '',
    ports: new Map(
      [...body.matchAll(/<port protocol="tcp" portid="(\d+)"><state state="([\w|]+)"/g)].map(
        ([, port, state]) => [Number(port), state ?? ''] as const,
      ),
    ),
  }));
}

function parseHostCounts(xml: string): string {
  return /<hosts (up="\d+" down="\d+" total="\d+")\/>/.exec(xml)?.[1] ?? 'no <hosts> in output';
}

function findOpenPorts(hosts: readonly ScannedHost[]): Record<string, number[]> {
  const open: Record<string, number[]> = {};
  for (const host of hosts.filter((h) => h.state === 'up')) {
    open[host.ip] = [...host.ports]
      .filter(([, state]) => state === 'open')
      .map(([port]) => port)
      .sort((a, b) => a - b);
  }
  return open;
}

/** Listening TCP sockets of the namespace `ss` runs in, with owning pids. */
async function listListeners(netns?: string): Promise<Listener[]> {
  const ss = ['-H', '-t', '-l', '-n', '-p'];
  const output = netns === undefined ? await run('ss', ss) : await run('ip', ['netns', 'exec', netns, 'ss', ...ss]);
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const local = line.trim().split(/\s+/)[3] ?? '';
      const colon = local.lastIndexOf(':');
      return {
        address: local.slice(0, colon),
        port: Number(local.slice(colon + 1)),
        pids: [...line.matchAll(/pid=(\d+)/g)].map(([, pid]) => Number(pid)),
      };
    });
}

/** Absolute kernel SNMP counters of a namespace; -s keeps nstat from touching its shared history file. */
async function readCounters(netns: string): Promise<Record<string, number>> {
  const output = await run('ip', ['netns', 'exec', netns, 'nstat', '-a', '-s', '-z', '--json']);
  return (JSON.parse(output) as { kernel: Record<string, number> }).kernel;
}

function diffCounters(before: Record<string, number>, after: Record<string, number>, names: readonly string[]) {
  return Object.fromEntries(names.map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)]));
}

async function listNamespacePids(netns: string): Promise<number[]> {
  return (await run('ip', ['netns', 'pids', netns]))
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

/** A prefix the root namespace routes somewhere real (eth0's subnet), other than loopback and default. */
async function findRoutedPrefix(): Promise<string | undefined> {
  const output = await run('ip', ['-4', 'route', 'show']);
  return /^(\d+\.\d+\.\d+\.\d+\/\d+) /m.exec(output)?.[1];
}

const isRoot = process.getuid?.() === 0;

const skip = isRoot ? false : 'needs root for network namespaces and nmap -sS';

describe('netns lab', { skip, timeout: 180_000 }, () => {
  let lab: Lab | undefined;

  before(async () => {
    lab = await startLab({ hosts: HOSTS, silentRange: SILENT_RANGE });
  });

  // Runs even when a test failed; stop() is idempotent, so the explicit stop in the last test does no harm.
  after(async () => {
    await lab?.stop();
  });

  function requireLab(): Lab {
    assert.ok(lab, 'lab did not start');
    return lab;
  }

  test('a SYN scan of the /29 finds exactly the three hosts and their listening ports', async () => {
    const { xml, ms } = await runTimedScan(requireLab(), ['-p', PORT_LIST, '198.51.100.8/29']);
    console.log(`nmap -sS of 198.51.100.8/29 (3 hosts up, 5 silent), ${PORTS.length} ports: ${ms} ms`);

    const hosts = parseHosts(xml);
    assert.deepEqual(findOpenPorts(hosts), {
      '198.51.100.10': [22, 80, 6379],
      '198.51.100.11': [443, 8080, 27017],
      '198.51.100.12': [2375],
    });
    // Every other scanned port on a live host must be a definite "closed" (RST), not filtered.
    for (const host of hosts) {
      assert.deepEqual(
        [...host.ports.keys()].sort((a, b) => a - b),
        [...PORTS].sort((a, b) => a - b),
        host.ip,
      );
      assert.ok(
        [...host.ports.values()].every((state) => state === 'open' || state === 'closed'),
        host.ip,
      );
    }
    assert.equal(parseHostCounts(xml), 'up="3" down="5" total="8"');
    assert.ok(!hosts.some((host) => host.ip === '198.51.100.9'), '198.51.100.9 has no VM and must not be reported');
  });

  test('an address without a VM gets no answer at all: no RST, no ICMP unreachable', async () => {
    const current = requireLab();
    const before = await readCounters(current.holeName);
    // -v makes nmap list down hosts too, with a reason.
    const { xml, ms } = await runTimedScan(current, ['-v', '-p', '22', '198.51.100.9']);
    console.log(`nmap -sS of one silent address (198.51.100.9): ${ms} ms`);
    const after = await readCounters(current.holeName);

    assert.deepEqual(
      parseHosts(xml).map(({ state, reason }) => ({ state, reason })),
      [{ state: 'down', reason: 'no-response' }],
    );
    assert.equal(parseHostCounts(xml), 'up="0" down="1" total="1"');
    // nmap 7.93 says "no-response" even when a router answers with ICMP host unreachable, so the reason alone
    // proves nothing: the hole's counters show the probes arrived and that it sent nothing back.
    const sent = diffCounters(before, after, ['IpOutRequests', 'IcmpOutMsgs', 'TcpOutRsts']);
    assert.deepEqual(sent, { IpOutRequests: 0, IcmpOutMsgs: 0, TcpOutRsts: 0 });
    assert.ok((after['IpInReceives'] ?? 0) > (before['IpInReceives'] ?? 0), 'the probes never reached the hole');
  });

  test('a listener closed since the last scan shows as closed, and open again once reopened', async () => {
    const current = requireLab();
    const scanFirstHost = async (): Promise<ReadonlyMap<number, string>> => {
      const { xml } = await runTimedScan(current, ['-p', PORT_LIST, '198.51.100.10']);
      const [host] = parseHosts(xml);
      assert.ok(host, 'no host in the scan output');
      return host.ports;
    };

    await current.closeListener('198.51.100.10', 6379);
    const closed = await scanFirstHost();
    assert.equal(closed.get(6379), 'closed');
    assert.equal(closed.get(22), 'open');
    assert.equal(closed.get(80), 'open');

    await current.openListener('198.51.100.10', 6379);
    assert.equal((await scanFirstHost()).get(6379), 'open');
  });

  test('the lab listens only inside its namespace, never in the root namespace', async () => {
    const current = requireLab();
    const labPids = new Set(await listNamespacePids(current.name));
    const labPorts = new Set(PORTS);

    // Positive control: the same ss query inside the lab does see the listeners and their pids.
    const inside = (await listListeners(current.name)).filter((l) => l.address.startsWith('198.51.100.'));
    assert.equal(
      inside.length,
      HOSTS.reduce((n, host) => n + host.ports.length, 0),
    );
    assert.ok(inside.every((l) => l.pids.some((pid) => labPids.has(pid))));

    // Other test suites may legitimately listen on 22 or 6379 in the root namespace, so judge by owner and
    // address rather than by port alone.
    const leaked = (await listListeners()).filter(
      (l) => labPorts.has(l.port) && (l.address.startsWith('198.51.100.') || l.pids.some((pid) => labPids.has(pid))),
    );
    assert.deepEqual(leaked, []);
    assert.doesNotMatch(await run('ip', ['-o', 'addr', 'show']), /198\.51\.100\./);
  });

  test('a silent range that the root namespace already routes is refused', async (t) => {
    const routed = await findRoutedPrefix();
    if (routed === undefined) return t.skip('the root namespace routes no prefix besides default');
    const before = await listLabNamespaces();
    await assert.rejects(startLab({ hosts: [{ ip: routed.split('/')[0] ?? '', ports: [22] }], silentRange: routed }), {
      message:
        `silentRange: "${routed}" overlaps ${routed}, which this namespace already routes; pick another ` +
        'documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)',
    });
    assert.deepEqual(await listLabNamespaces(), before, 'a refused lab must create no namespace');
  });

  test('stop() kills the listeners and deletes both namespaces, and may be called twice', async () => {
    const current = requireLab();
    const pids = await listNamespacePids(current.name);
    assert.ok(pids.length > 0, 'expected the listener process inside the lab namespace');

    await current.stop();
    await current.stop();

    const namespaces = await run('ip', ['netns', 'list']);
    assert.doesNotMatch(namespaces, new RegExp(`^(${current.name}|${current.holeName})\\b`, 'm'));
    assert.ok(!(await listLabNamespaces()).includes(current.name));
    assert.deepEqual(pids.filter(isProcessAlive), []);
    assert.equal(existsSync(current.dir), false);
  });
});

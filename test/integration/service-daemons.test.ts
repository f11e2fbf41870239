/**
 * The service lab itself: real redis-server, memcached, dnsmasq and snmpd, each bound to one address of a routed
 * namespace lab, scanned by real nmap from the lab's scan namespace. The lab's ICMP rate limit is off, so every
 * closed UDP port answers and "no UDP port" can be asserted exactly. Requires root (namespaces, raw sockets).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isProcessAlive } from '../lab/netns-lab.ts';
import { listRoutedLabNamespaces, startRoutedLab, type RoutedLab } from '../lab/routed-lab.ts';
import { DEFAULT_UDP_PORTS } from '../../src/targets/udp-ports.ts';
import {
  SERVICE_LAB,
  SERVICE_LAB_EMPTY_ADDRESS,
  startServiceDaemons,
  type ServiceDaemons,
} from '../lab/service-daemons.ts';
import { readToolOutput } from '../support/run-tool.ts';

const PLACEMENTS = SERVICE_LAB;
const EMPTY_ADDRESS = SERVICE_LAB_EMPTY_ADDRESS;
const ADDRESSES = [...PLACEMENTS.map((placement) => placement.address), EMPTY_ADDRESS];
const NMAP_TIMEOUT_MS = 45_000;

interface ScannedPort {
  readonly protocol: string;
  readonly port: number;
  readonly state: string;
  readonly service: string | undefined;
  readonly scripts: ReadonlyMap<string, string>;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Address → the ports nmap listed for it, read from `-oX -` output with just enough parsing for these asserts. */
function readPorts(xml: string): Map<string, ScannedPort[]> {
  const hosts = new Map<string, ScannedPort[]>();
  for (const host of xml.split('<host ').slice(1)) {
    const address = /<address addr="([^"]+)" addrtype="ipv4"/.exec(host)?.[1];
    assert.ok(address, `a <host> without an IPv4 address: ${host.slice(0, 200)}`);
    const ports = host
      .split('<port ')
      .slice(1)
      .map((element) => {
        const scripts = new Map<string, string>();
        for (const match of element.matchAll(/<script id="([^"]+)" output="([^"]*)"/g))
          scripts.set(match[1]!, decodeEntities(match[2]!));
        return {
          protocol: /protocol="(\w+)"/.exec(element)?.[1] ?? '',
          port: Number(/portid="(\d+)"/.exec(element)?.[1]),
          state: /<state state="([^"]+)"/.exec(element)?.[1] ?? '',
          service: /<service name="([^"]+)"/.exec(element)?.[1],
          scripts,
        };
      });
    hosts.set(address, ports);
  }
  return hosts;
}

function summarise(hosts: Map<string, ScannedPort[]>): Record<string, string[]> {
  return Object.fromEntries(
    [...hosts].map(([address, ports]) => [address, ports.map((port) => `${port.protocol}/${port.port} ${port.state}`)]),
  );
}

describe('real UDP and service daemons in a routed namespace lab', { timeout: 120_000 }, () => {
  let lab: RoutedLab;
  let daemons: ServiceDaemons;

  const nmap = (args: readonly string[]): Promise<string> =>
    readToolOutput(lab.nmapPath, [...args, '-oX', '-'], { timeoutMs: NMAP_TIMEOUT_MS });

  before(async () => {
    lab = await startRoutedLab({ addresses: ADDRESSES, icmpRateLimit: false });
    daemons = await startServiceDaemons({
      namespace: (address) => lab.hostNamespace(address),
      probeNamespace: lab.scanName,
      dir: lab.dir,
      daemons: PLACEMENTS,
    });
  });
  after(async () => {
    await daemons?.stop();
    await lab?.stop();
  });

  it('each daemon has its UDP port open on its own address only, and the address without a service has no UDP port at all', async () => {
    const hosts = readPorts(await nmap(['-n', '-sU', '-Pn', '--open', '-p', DEFAULT_UDP_PORTS, ...ADDRESSES]));
    // --open lists open and open|filtered ports and leaves out a host with neither: the redis host (TCP only)
    // and the empty address must be absent, which also proves no port of theirs is open|filtered.
    assert.deepEqual(summarise(hosts), {
      '198.51.100.12': ['udp/11211 open'],
      '198.51.100.13': ['udp/53 open'],
      '198.51.100.14': ['udp/161 open'],
    });
  });

  it('each daemon has its TCP port open on its own address only', async () => {
    const hosts = readPorts(await nmap(['-n', '-sS', '-Pn', '--open', '-p', '53,161,199,7777,11211', ...ADDRESSES]));
    assert.deepEqual(summarise(hosts), {
      '198.51.100.11': ['tcp/7777 open'],
      '198.51.100.12': ['tcp/11211 open'],
      '198.51.100.13': ['tcp/53 open'],
    });
  });

  it('-sV names the redis, memcached, domain and snmp services, and redis-info answers without authentication', async () => {
    const scripts = ['--script', 'redis-info,memcached-info'];
    // One run per address, as the exporter's verification pass groups addresses by their open ports.
    const [redis, memcached, dns, snmp] = await Promise.all([
      nmap(['-n', '-Pn', '-sV', '-sS', '--version-intensity', '7', '-p', 'T:7777', ...scripts, '198.51.100.11']),
      nmap(['-n', '-Pn', '-sV', '-sS', '--version-intensity', '7', '-p', 'T:11211', ...scripts, '198.51.100.12']),
      nmap(['-n', '-Pn', '-sV', '-sS', '--version-intensity', '7', '-p', 'T:53', ...scripts, '198.51.100.13']),
      nmap(['-n', '-Pn', '-sV', '-sU', '--version-intensity', '7', '-p', 'U:161', ...scripts, '198.51.100.14']),
    ]);
    const only = (xml: string, address: string): ScannedPort => {
      const ports = readPorts(xml).get(address);
      assert.equal(ports?.length, 1, `one port on ${address}: ${xml}`);
      return ports[0]!;
    };
    assert.deepEqual(
      [
        only(redis!, '198.51.100.11'),
        only(memcached!, '198.51.100.12'),
        only(dns!, '198.51.100.13'),
        only(snmp!, '198.51.100.14'),
      ].map((port) => port.service),
      ['redis', 'memcached', 'domain', 'snmp'],
    );
    const redisInfo = only(redis!, '198.51.100.11').scripts.get('redis-info');
    // A redis with a password refuses INFO to a client that has not authenticated, so these fields would be missing.
    assert.match(redisInfo ?? '', /^\s*Version: 7\.\d+\.\d+$/m, `redis-info output: ${redisInfo}`);
    assert.match(redisInfo ?? '', /^\s*Role: master$/m);
    assert.match(only(memcached!, '198.51.100.12').scripts.get('memcached-info') ?? '', /^\s*Authentication: no$/m);
  });

  it('stopping the daemons and the lab leaves no daemon process and no namespace behind', async () => {
    const pids = daemons.daemons.map((daemon) => daemon.pid);
    assert.equal(pids.length, 4);
    assert.ok(
      pids.every((pid) => pid > 0 && isProcessAlive(pid)),
      `all four daemons run before the stop: ${pids.join(', ')}`,
    );
    await daemons.stop();
    assert.deepEqual(
      pids.filter((pid) => isProcessAlive(pid)),
      [],
    );
    await lab.stop();
    const left = (await listRoutedLabNamespaces()).filter((name) =>
      name.endsWith(lab.scanName.slice('eesvc-scan'.length)),
    );
    assert.deepEqual(left, []);
  });
});

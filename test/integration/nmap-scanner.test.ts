/**
 * NmapScanner with real nmap: IPv4 in a namespace lab, IPv6 and a mixed job on loopback, progress from
 * nmap's task reports, and cancellation; then the UDP pass's and verification's readings, on recorded output
 * replayed by a stand-in nmap. On loopback only the ports this test opens are asserted on.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildScanJob } from '../../src/cycle/cycle.ts';
import { NmapScanner, probeNmapProcStatus } from '../../src/scan/nmap-scanner.ts';
import { isProcessAlive, startLab } from '../lab/netns-lab.ts';
import type { Lab } from '../lab/netns-lab.ts';
import { openTcpListener } from '../support/tcp-listener.ts';
import type { TcpListener } from '../support/tcp-listener.ts';
import { configWith } from '../support/config.ts';

function jobFor(yaml: string) {
  return buildScanJob(configWith(yaml));
}

describe('NmapScanner on loopback', () => {
  let v4: TcpListener;
  let v6: TcpListener;
  before(async () => {
    v4 = await openTcpListener('127.0.0.1');
    v6 = await openTcpListener('::1');
  });
  after(async () => {
    await Promise.all([v4.close(), v6.close()]);
  });

  it('scans IPv4 and IPv6 targets in one run per family and finds the ports this test opened', async () => {
    const scanner = new NmapScanner({ privilege: 'root' });
    const job = jobFor(`scan:\n  targets: ["127.0.0.1", "::1"]\n  ports: "${v4.port},${v6.port}"\n`);
    const result = await scanner.scan(job, { signal: AbortSignal.timeout(60_000) });
    assert.equal(result.nmapArgs.length, 2);
    assert.equal(result.nmapArgs[1]?.[0], '-6');
    assert.equal(result.nmapVersion, '7.93');
    assert.equal(result.targets, 2);
    assert.equal(result.hostsUp, 2);
    const open = (ip: string) => result.hosts.find((host) => host.ip === ip)?.openPorts.map((port) => port.port) ?? [];
    assert.ok(open('127.0.0.1').includes(v4.port), `127.0.0.1:${v4.port} found open`);
    assert.ok(open('::1').includes(v6.port), `[::1]:${v6.port} found open`);
    assert.ok(
      !open('127.0.0.1').includes(v6.port) || v6.port === v4.port,
      'the IPv6-only listener is not open on IPv4',
    );
  });

  it('runs a connect scan without root privilege', async () => {
    const scanner = new NmapScanner({ privilege: 'none' });
    const job = jobFor(`scan:\n  targets: ["127.0.0.1"]\n  ports: "${v4.port}"\n`);
    const result = await scanner.scan(job, { signal: AbortSignal.timeout(60_000) });
    assert.ok(result.nmapArgs[0]?.includes('-sT'));
    assert.deepEqual(
      result.hosts.map((host) => host.openPorts.map((port) => port.port)),
      [[v4.port]],
    );
  });

  it('reports a missing nmap as NMAP_NOT_FOUND naming the configured path', async () => {
    const scanner = new NmapScanner({ privilege: 'root' });
    const job = jobFor('scan:\n  nmap:\n    path: /nonexistent/nmap\n');
    await assert.rejects(scanner.scan(job, { signal: AbortSignal.timeout(10_000) }), {
      code: 'NMAP_NOT_FOUND',
      message: 'nmap was not found at "/nonexistent/nmap" (scan.nmap.path)',
    });
  });
});

describe('probeNmapProcStatus', () => {
  it("reads the real nmap's own status, with the capabilities the kernel gave it, and leaves nothing running", async () => {
    const status = await probeNmapProcStatus('nmap', { signal: AbortSignal.timeout(15_000) });
    assert.match(status ?? '', /^Name:\tnmap$/m);
    // Run as root here: nmap's effective set holds CAP_NET_RAW (bit 13).
    const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(status ?? '')?.[1] ?? '0';
    assert.equal((BigInt(`0x${effective}`) >> 13n) & 1n, 1n);
    const pid = Number(/^Pid:\s*(\d+)$/m.exec(status ?? '')?.[1]);
    assert.equal(isProcessAlive(pid), false, 'the probe killed nmap');
  });

  it('answers undefined for an nmap that does not exist', async () => {
    assert.equal(await probeNmapProcStatus('/nonexistent/nmap', { signal: AbortSignal.timeout(15_000) }), undefined);
  });
});

describe('NmapScanner in a namespace lab', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ hosts: [{ ip: '198.51.100.20', ports: [6379] }], silentRange: '198.51.100.0/24' });
  });
  after(async () => {
    await lab?.stop();
  });

  it("drives the progress ratio from nmap's task reports, never backwards, ending at most 1", async () => {
    const scanner = new NmapScanner({ privilege: 'root', statsEveryMs: 100 });
    const job = jobFor(
      `scan:\n  targets: ["198.51.100.16/28"]\n  ports: "6379"\n  nmap:\n    path: ${JSON.stringify(lab.nmapPath)}\n`,
    );
    const ratios: number[] = [];
    const result = await scanner.scan(job, {
      signal: AbortSignal.timeout(60_000),
      onProgress: (ratio) => ratios.push(ratio),
    });
    assert.deepEqual(result.hosts, [
      { ip: '198.51.100.20', openPorts: [{ port: 6379, protocol: 'tcp', service: 'redis' }] },
    ]);
    assert.equal(result.hostsUp, 1);
    assert.ok(ratios.length >= 2, `progress reported ${ratios.length} times`);
    assert.ok(
      ratios.every((ratio, i) => ratio > 0 && ratio <= 1 && (i === 0 || ratio >= ratios[i - 1]!)),
      ratios.join(' '),
    );
  });

  it('kills nmap when the signal aborts and says it timed out', async () => {
    const scanner = new NmapScanner({ privilege: 'root', killGraceMs: 500 });
    // Host discovery of 62 silent addresses takes seconds; the deadline fires long before.
    const job = jobFor(
      `scan:\n  targets: ["198.51.100.64/26"]\n  ports: "6379"\n  nmap:\n    path: ${JSON.stringify(lab.nmapPath)}\n`,
    );
    const started = Date.now();
    await assert.rejects(scanner.scan(job, { signal: AbortSignal.timeout(300) }), {
      code: 'NMAP_TIMEOUT',
      message: 'nmap did not finish within scan.timeout and was stopped',
    });
    // Not a timing assertion on the scan: proof that the call returned instead of waiting for nmap to finish.
    assert.ok(Date.now() - started < 30_000);
  });
});

describe('NmapScanner on recorded UDP and -sV output', () => {
  let dir: string;
  /** An nmap that reads its targets, then prints one recording of test/fixtures/nmap whatever it was asked. */
  async function replaying(fixture: string): Promise<string> {
    const path = join(dir, `replay-${fixture}`);
    const recording = new URL(`../fixtures/nmap/${fixture}`, import.meta.url).pathname;
    await writeFile(path, `#!/bin/sh\ncat >/dev/null\nexec cat ${JSON.stringify(recording)}\n`);
    await chmod(path, 0o755);
    return path;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-replay-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps only the UDP ports that answered, never the rate-limited hosts' open|filtered ones", async () => {
    const scanner = new NmapScanner({ privilege: 'root' });
    const job = {
      ...jobFor(
        `scan:\n  targets: ["198.51.100.8/29"]\n  nmap: {path: ${JSON.stringify(await replaying('udp-ratelimited.xml'))}}\n`,
      ),
      scanType: 'udp' as const,
    };
    const result = await scanner.scan(job, { signal: AbortSignal.timeout(10_000) });
    assert.deepEqual(
      result.hosts.map(
        (host) => `${host.ip} ${host.openPorts.map((port) => `${port.port}/${port.protocol}`).join(',')}`,
      ),
      ['198.51.100.12 11211/udp', '198.51.100.13 53/udp', '198.51.100.14 161/udp'],
    );
  });

  it('reads what -sV found and whether redis-info got in without credentials', async () => {
    const scanner = new NmapScanner({ privilege: 'root' });
    const base = jobFor(
      `scan:\n  targets: ["198.51.100.11"]\n  nmap: {path: ${JSON.stringify(await replaying('verify-redis.xml'))}}\n`,
    );
    const result = await scanner.scan(
      { ...base, versionDetection: { intensity: 7, scripts: ['redis-info'] } },
      { signal: AbortSignal.timeout(10_000) },
    );
    assert.deepEqual(result.hosts[0]?.openPorts, [
      {
        port: 7777,
        protocol: 'tcp',
        service: 'redis',
        detected: { name: 'redis', product: 'Redis key-value store', version: '7.0.15', unauthenticated: true },
      },
    ]);
  });

  it('refuses a UDP scan without raw sockets, naming the setting that turns it off', async () => {
    const scanner = new NmapScanner({ privilege: 'none' });
    const job = { ...jobFor('scan:\n  targets: ["127.0.0.1"]\n'), scanType: 'udp' as const };
    await assert.rejects(scanner.scan(job, { signal: AbortSignal.timeout(10_000) }), {
      code: 'NMAP_NO_PRIVILEGE',
      message:
        'the UDP pass needs raw sockets (root or CAP_NET_RAW), which the exporter does not have; set scan.udp.ports: none to turn it off',
    });
  });
});

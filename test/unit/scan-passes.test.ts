import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock, TimerHandle } from '../../src/clock.ts';
import { ExporterState } from '../../src/state/exporter-state.ts';
import { recordInventoryRead } from '../../src/state/health.ts';
import { NO_INVENTORY, UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import { CycleScheduler } from '../../src/cycle/scheduler.ts';
import { groupPairs, isUdpPassDue, mergeHosts } from '../../src/scan/scan-passes.ts';
import type { PassRun } from '../../src/scan/scan-passes.ts';
import type { Snapshot, SnapshotPort } from '../../src/exposure/snapshot.ts';
import { parseState, renderState } from '../../src/state/state-file.ts';
import { ExporterError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import type { ObservedHost, ScanJob, ScanOptions, ScanResult, Scanner } from '../../src/scan/types.ts';
import { scanResult, testConfig } from '../support/snapshots.ts';

const T0 = new Date('2026-12-01T01:00:00.000Z');
const HOUR = 3_600_000;

/** Time that moves only when the test says; timers never fire (each test runs its cycles itself). */
class StillClock implements Clock {
  at = T0.getTime();
  now(): Date {
    return new Date(this.at);
  }
  setTimeout(): TimerHandle {
    return {};
  }
  clearTimeout(): void {}
}

type Answer = ObservedHost[] | Error;

/** Answers each pass from the test's tables: TCP, UDP and verification, and records every job. */
class PassScanner implements Scanner {
  readonly jobs: ScanJob[] = [];
  tcp: Answer = [];
  udp: Answer = [];
  verify: Answer = [];
  readonly #clock: StillClock;

  constructor(clock: StillClock) {
    this.#clock = clock;
  }

  scan(job: ScanJob, options: ScanOptions): Promise<ScanResult> {
    this.jobs.push(job);
    options.signal.throwIfAborted();
    const answer = job.versionDetection ? this.verify : job.scanType === 'udp' ? this.udp : this.tcp;
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve(
      scanResult(answer, this.#clock.now(), { nmapArgs: [[job.scanType === 'udp' ? '-sU' : '-sS', '-p', job.ports]] }),
    );
  }
}

const TARGETS = 'scan:\n  targets: ["203.0.113.0/28"]\n  interval: 1h\n  timeout: 50m\n';

function setup(yaml: string) {
  const clock = new StillClock();
  const scanner = new PassScanner(clock);
  const state = new ExporterState({ config: testConfig(yaml), startedAt: T0 });
  const saved: Snapshot[] = [];
  const scheduler = new CycleScheduler({
    scanner,
    state,
    log: silentLogger,
    persist: async (s) => void saved.push(s),
    clock,
  });
  /** One cycle at the clock's time, then the clock moves an hour on. */
  const cycle = async () => {
    const outcome = await scheduler.runCycle();
    clock.at += HOUR;
    return outcome;
  };
  return { clock, scanner, state, scheduler, cycle, saved };
}

function portsOf(snapshot: Snapshot | undefined): string[] {
  return (snapshot?.hosts ?? []).flatMap((host) =>
    host.ports.map((port) => `${host.ip} ${port.port}/${port.protocol} ${port.service} ${port.severity ?? port.class}`),
  );
}

function portOf(snapshot: Snapshot | undefined, ip: string, port: number): SnapshotPort | undefined {
  return snapshot?.hosts.find((host) => host.ip === ip)?.ports.find((candidate) => candidate.port === port);
}

const WEB: ObservedHost = {
  ip: '203.0.113.7',
  openPorts: [
    { port: 22, protocol: 'tcp', service: 'ssh' },
    { port: 7777, protocol: 'tcp', service: 'cbt' },
  ],
};
const SNMP: ObservedHost = { ip: '203.0.113.7', openPorts: [{ port: 161, protocol: 'udp', service: 'snmp' }] };
const DNS: ObservedHost = { ip: '203.0.113.9', openPorts: [{ port: 53, protocol: 'udp', service: 'domain' }] };

describe('the UDP pass', () => {
  it('scans the same addresses as the TCP scan with -sU on the UDP port list, and joins what answered', async () => {
    const { scanner, state, cycle } = setup(`${TARGETS}  udp: {ports: "53,161", max_retries: 0}\n`);
    scanner.tcp = [WEB];
    scanner.udp = [SNMP, DNS];
    assert.deepEqual(await cycle(), { ran: true, success: true });
    assert.deepEqual(
      scanner.jobs.map((job) => [job.scanType, job.ports, job.tuning.maxRetries, job.defeatIcmpRateLimit ?? null]),
      [
        ['auto', state.config.plan.ports, 2, null],
        ['udp', '53,161', 0, true],
      ],
    );
    assert.equal(scanner.jobs[1]!.targets, scanner.jobs[0]!.targets);
    assert.deepEqual(portsOf(state.snapshot), [
      '203.0.113.7 22/tcp ssh standard',
      '203.0.113.7 7777/tcp cbt low',
      '203.0.113.7 161/udp snmp high',
      '203.0.113.9 53/udp domain medium',
    ]);
    const udp = state.snapshot?.passes?.udp;
    assert.deepEqual(
      udp && { success: udp.success, scanned: udp.scanned, args: udp.nmapArgs, lastSuccessAt: udp.lastSuccessAt },
      {
        success: true,
        scanned: 16,
        args: [['-sU', '-p', '53,161']],
        lastSuccessAt: T0,
      },
    );
  });

  it("in a sweep with an inventory, scans the inventory's addresses and the sweep's finds, not the whole targets", async () => {
    const { scanner, state, cycle } = setup(`${TARGETS}inventory_file: {path: inventory.yml}\n`);
    const owners = new Map([
      ['203.0.113.3', { ...UNKNOWN_OWNER, vmName: 'dns-1', ownerKind: 'file' }],
      ['198.51.100.1', UNKNOWN_OWNER],
    ]);
    state.recordInventoryFile(recordInventoryRead({ ...NO_INVENTORY, source: 'file', syncedAt: T0, owners }, T0));
    scanner.tcp = [WEB];
    await cycle();
    assert.deepEqual(
      scanner.jobs.map((job) => [
        job.scanType,
        job.targets === state.config.plan.targets ? 'sweep' : [...job.targets.nmapTargets(4)],
      ]),
      [
        ['auto', 'sweep'],
        // 198.51.100.1 is outside the targets: nothing outside them is ever scanned.
        ['udp', ['203.0.113.3', '203.0.113.7']],
      ],
    );
  });

  it('takes only UDP ports from the UDP run: TCP ports there were not asked for', async () => {
    const { scanner, state, cycle } = setup(TARGETS);
    scanner.tcp = [];
    scanner.udp = [WEB, DNS];
    await cycle();
    assert.deepEqual(portsOf(state.snapshot), ['203.0.113.9 53/udp domain medium']);
  });

  it('runs every scan.udp.interval and keeps the UDP ports, with their first-seen, in the cycles between', async () => {
    const { scanner, state, cycle } = setup(`${TARGETS}  udp: {interval: 3h}\n`);
    scanner.tcp = [WEB];
    scanner.udp = [SNMP];
    for (let hour = 0; hour < 4; hour += 1) await cycle();
    assert.deepEqual(
      scanner.jobs.map((job) => job.scanType),
      ['auto', 'udp', 'auto', 'auto', 'auto', 'udp'],
    );
    const snmp = portOf(state.snapshot, '203.0.113.7', 161);
    assert.equal(snmp?.firstSeen.getTime(), T0.getTime());
    assert.deepEqual(state.snapshot?.changes, { opened: [], closed: [] });
  });

  it('closes a UDP port only when a UDP run no longer hears it', async () => {
    const { scanner, state, cycle } = setup(TARGETS);
    scanner.tcp = [WEB];
    scanner.udp = [SNMP];
    await cycle();
    scanner.udp = [];
    await cycle();
    assert.deepEqual(state.snapshot?.changes.closed, [{ ip: '203.0.113.7', port: 161, protocol: 'udp' }]);
  });

  it('fails alone: the cycle succeeds with its TCP results, keeps the previous UDP ports and records the error', async () => {
    const { scanner, state, cycle } = setup(TARGETS);
    scanner.tcp = [WEB];
    scanner.udp = [SNMP];
    await cycle();
    scanner.tcp = [{ ip: '203.0.113.7', openPorts: [{ port: 6379, protocol: 'tcp', service: 'redis' }] }];
    scanner.udp = new ExporterError('NMAP_FAILED', 'nmap exited with code 1');
    assert.deepEqual(await cycle(), { ran: true, success: true });
    assert.deepEqual(portsOf(state.snapshot), ['203.0.113.7 6379/tcp redis high', '203.0.113.7 161/udp snmp high']);
    const udp = state.snapshot?.passes?.udp;
    assert.deepEqual(udp && [udp.success, udp.error, udp.lastSuccessAt], [
      false,
      { code: 'NMAP_FAILED', message: 'nmap exited with code 1' },
      T0,
    ]);
    assert.equal(state.health.scan.lastAttempt?.success, true);
  });

  it('runs in a cycle that asks for every pass (--once) even inside its interval', async () => {
    const { clock, scanner, scheduler, cycle } = setup(`${TARGETS}  udp: {interval: 6h}\n`);
    scanner.udp = [SNMP];
    await cycle();
    clock.at -= HOUR / 2;
    await scheduler.runCycle({ scope: 'sweep', everyPass: true });
    await scheduler.runCycle({ scope: 'sweep' });
    assert.deepEqual(
      scanner.jobs.map((job) => job.scanType),
      ['auto', 'udp', 'auto', 'udp', 'auto'],
    );
  });

  it('is retried in the next cycle after a failure, even inside its interval', async () => {
    const { scanner, cycle } = setup(`${TARGETS}  udp: {interval: 6h}\n`);
    scanner.udp = new ExporterError('NMAP_FAILED', 'nmap exited with code 1');
    await cycle();
    scanner.udp = [];
    await cycle();
    await cycle();
    assert.deepEqual(
      scanner.jobs.map((job) => job.scanType),
      ['auto', 'udp', 'auto', 'udp', 'auto'],
    );
  });

  it('is not run with ports: none, and leaves no pass record', async () => {
    const { scanner, state, cycle } = setup(`${TARGETS}  udp: {ports: none}\n`);
    scanner.tcp = [WEB];
    await cycle();
    assert.deepEqual(
      scanner.jobs.map((job) => job.scanType),
      ['auto'],
    );
    assert.equal(state.snapshot?.passes, undefined);
  });
});

describe('isUdpPassDue', () => {
  const run = (cycleStartedAt: Date, success = true): PassRun => ({
    cycleStartedAt,
    startedAt: new Date(cycleStartedAt.getTime() + 40_000),
    finishedAt: new Date(cycleStartedAt.getTime() + 50_000),
    success,
    error: null,
    lastSuccessAt: null,
    scanned: 1,
    nmapArgs: [],
  });

  it('counts the interval from cycle starts, so a shorter TCP scan next time cannot skip a run', () => {
    assert.equal(isUdpPassDue(run(T0), new Date(T0.getTime() + HOUR), HOUR), true);
    assert.equal(isUdpPassDue(run(T0), new Date(T0.getTime() + HOUR - 1), HOUR), false);
  });

  it('is due with no run yet, and after a failed run', () => {
    assert.equal(isUdpPassDue(undefined, T0, HOUR), true);
    assert.equal(isUdpPassDue(run(T0, false), new Date(T0.getTime() + 1), HOUR), true);
  });
});

describe('verification', () => {
  const VERIFY = `${TARGETS}  udp: {ports: "161"}\n  verify: {enabled: true, version_intensity: 3, scripts: [redis-info]}\n`;
  const REDIS = { name: 'redis', product: 'Redis key-value store', version: '7.0.15', unauthenticated: true };
  const SNMPD = { name: 'snmp', product: 'net-snmp', version: '', unauthenticated: false };

  it('probes only the open nonstandard ports, grouped by protocol and port set, with -Pn', async () => {
    const { scanner, cycle } = setup(VERIFY);
    scanner.tcp = [
      WEB,
      {
        ip: '203.0.113.9',
        openPorts: [
          { port: 7777, protocol: 'tcp', service: 'cbt' },
          { port: 443, protocol: 'tcp', service: 'https' },
        ],
      },
    ];
    scanner.udp = [SNMP];
    await cycle();
    const verifications = scanner.jobs.filter((job) => job.versionDetection);
    assert.deepEqual(
      verifications.map((job) => ({
        scanType: job.scanType,
        ports: job.ports,
        targets: [...job.targets.nmapTargets(4)],
        hostDiscovery: job.hostDiscovery,
        detection: job.versionDetection,
      })),
      [
        {
          scanType: 'auto',
          ports: '7777',
          targets: ['203.0.113.7', '203.0.113.9'],
          hostDiscovery: false,
          detection: { intensity: 3, scripts: ['redis-info'] },
        },
        {
          scanType: 'udp',
          ports: '161',
          targets: ['203.0.113.7'],
          hostDiscovery: false,
          detection: { intensity: 3, scripts: ['redis-info'] },
        },
      ],
    );
  });

  it('names what answered and raises the severity to its service, marking the store readable without credentials', async () => {
    const { scanner, state, cycle } = setup(VERIFY);
    scanner.tcp = [WEB];
    scanner.udp = [SNMP];
    scanner.verify = [
      {
        ip: '203.0.113.7',
        openPorts: [
          { port: 7777, protocol: 'tcp', service: 'redis', detected: REDIS },
          { port: 161, protocol: 'udp', service: 'snmp', detected: SNMPD },
        ],
      },
    ];
    await cycle();
    assert.deepEqual(portsOf(state.snapshot), [
      '203.0.113.7 22/tcp ssh standard',
      '203.0.113.7 7777/tcp redis high',
      '203.0.113.7 161/udp snmp high',
    ]);
    assert.deepEqual(portOf(state.snapshot, '203.0.113.7', 7777)?.detected, REDIS);
    const verify = state.snapshot?.passes?.verify;
    assert.deepEqual(verify && [verify.success, verify.scanned], [true, 2]);
  });

  it('runs at most four verification groups at once, and every group', async () => {
    const { scanner, state, cycle } = setup(`${TARGETS}  udp: {ports: none}\n  verify: {enabled: true}\n`);
    // Six addresses, each with a port set of its own: six groups.
    scanner.tcp = [1, 2, 3, 4, 5, 6].map((n) => ({
      ip: `203.0.113.${n}`,
      openPorts: [{ port: 9000 + n, protocol: 'tcp' as const, service: '' }],
    }));
    let inFlight = 0;
    let most = 0;
    const scan = scanner.scan.bind(scanner);
    scanner.scan = async (job, options) => {
      if (!job.versionDetection) return scan(job, options);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return scan(job, options);
    };
    await cycle();
    assert.equal(most, 4);
    assert.deepEqual(
      scanner.jobs
        .filter((job) => job.versionDetection)
        .map((job) => job.ports)
        .sort(),
      ['9001', '9002', '9003', '9004', '9005', '9006'],
    );
    assert.equal(state.snapshot?.passes?.verify?.success, true);
  });

  it('ignores what nmap reports on ports it was not asked about', async () => {
    const { scanner, state, cycle } = setup(VERIFY);
    scanner.tcp = [WEB];
    scanner.udp = [];
    scanner.verify = [
      { ip: '203.0.113.7', openPorts: [{ port: 22, protocol: 'tcp', service: 'redis', detected: REDIS }] },
    ];
    await cycle();
    assert.equal(portOf(state.snapshot, '203.0.113.7', 22)?.detected, undefined);
    assert.equal(portOf(state.snapshot, '203.0.113.7', 7777)?.detected, undefined);
  });

  it('keeps what the previous cycle found when a run fails, and records the failure', async () => {
    const { scanner, state, cycle } = setup(VERIFY);
    scanner.tcp = [WEB];
    scanner.udp = [];
    scanner.verify = [
      { ip: '203.0.113.7', openPorts: [{ port: 7777, protocol: 'tcp', service: 'redis', detected: REDIS }] },
    ];
    await cycle();
    scanner.verify = new ExporterError('NMAP_OUTPUT_INVALID', 'nmap output is not XML');
    assert.deepEqual(await cycle(), { ran: true, success: true });
    assert.deepEqual(portOf(state.snapshot, '203.0.113.7', 7777)?.detected, REDIS);
    assert.equal(portOf(state.snapshot, '203.0.113.7', 7777)?.severity, 'high');
    assert.equal(state.snapshot?.passes?.verify?.success, false);
  });

  it('probes the UDP ports a cycle without a UDP run keeps, so they stay verified', async () => {
    const { scanner, state, cycle } = setup(
      `${TARGETS}  udp: {ports: "161", interval: 3h}\n  verify: {enabled: true}\n`,
    );
    scanner.tcp = [];
    scanner.udp = [SNMP];
    scanner.verify = [
      { ip: '203.0.113.7', openPorts: [{ port: 161, protocol: 'udp', service: 'snmp', detected: SNMPD }] },
    ];
    await cycle();
    await cycle();
    assert.deepEqual(
      scanner.jobs.map((job) => `${job.scanType}${job.versionDetection ? ' -sV' : ''} ${job.ports}`),
      [`auto ${state.config.plan.ports}`, 'udp 161', 'udp -sV 161', `auto ${state.config.plan.ports}`, 'udp -sV 161'],
    );
    assert.deepEqual(portOf(state.snapshot, '203.0.113.7', 161)?.detected, SNMPD);
  });

  it('runs no nmap when nothing nonstandard is open, and says it succeeded', async () => {
    const { scanner, state, cycle } = setup(VERIFY);
    scanner.tcp = [{ ip: '203.0.113.7', openPorts: [{ port: 22, protocol: 'tcp', service: 'ssh' }] }];
    scanner.udp = [];
    await cycle();
    assert.equal(scanner.jobs.filter((job) => job.versionDetection).length, 0);
    assert.deepEqual([state.snapshot?.passes?.verify?.success, state.snapshot?.passes?.verify?.scanned], [true, 0]);
  });

  it('survives a restart: the state file keeps the passes and what answered', async () => {
    const { scanner, state, cycle } = setup(VERIFY);
    scanner.tcp = [WEB];
    scanner.udp = [SNMP];
    scanner.verify = [
      { ip: '203.0.113.7', openPorts: [{ port: 7777, protocol: 'tcp', service: 'redis', detected: REDIS }] },
    ];
    await cycle();
    const restored = parseState(renderState(state.snapshot!, T0));
    assert.deepEqual(restored, state.snapshot);
  });
});

describe('groupPairs and mergeHosts', () => {
  it('groups addresses with the same ports into one nmap run per protocol and port set', () => {
    const pairs = [
      { ip: '203.0.113.1', port: 7777, protocol: 'tcp' as const },
      { ip: '203.0.113.1', port: 9000, protocol: 'tcp' as const },
      { ip: '203.0.113.2', port: 9000, protocol: 'tcp' as const },
      { ip: '203.0.113.2', port: 7777, protocol: 'tcp' as const },
      { ip: '203.0.113.3', port: 9000, protocol: 'tcp' as const },
      { ip: '203.0.113.3', port: 161, protocol: 'udp' as const },
    ];
    assert.deepEqual(groupPairs(pairs), [
      { protocol: 'tcp', ports: '7777,9000', addresses: ['203.0.113.1', '203.0.113.2'] },
      { protocol: 'tcp', ports: '9000', addresses: ['203.0.113.3'] },
      { protocol: 'udp', ports: '161', addresses: ['203.0.113.3'] },
    ]);
  });

  it('merges lists into one host per address, the first list winning a port both name', () => {
    const merged = mergeHosts(
      [WEB],
      [SNMP, DNS],
      [{ ip: '203.0.113.7', openPorts: [{ port: 7777, protocol: 'tcp', service: 'other' }] }],
    );
    assert.deepEqual(
      merged.map((host) => [host.ip, host.openPorts.map((port) => `${port.port}/${port.protocol} ${port.service}`)]),
      [
        ['203.0.113.7', ['22/tcp ssh', '7777/tcp cbt', '161/udp snmp']],
        ['203.0.113.9', ['53/udp domain']],
      ],
    );
  });
});

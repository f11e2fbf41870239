import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExporterState } from '../../src/state/exporter-state.ts';
import type { CycleAttempt } from '../../src/state/health.ts';
import type { AddressOwner, InventorySnapshot } from '../../src/inventory/inventory.ts';
import { buildReport, hasFindings, parseReportFilter, renderReportJson } from '../../src/report/report.ts';
import type { ReportFilter } from '../../src/report/report.ts';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import type { Snapshot } from '../../src/exposure/snapshot.ts';
import type { ObservedHost } from '../../src/scan/types.ts';
import { recordCompletedCycle, recordFailedCycle, scanResult } from '../support/snapshots.ts';
import { SHOP_DB, BLOG_WEB, INFRA_CI } from '../support/owners.ts';
import { configWith } from '../support/config.ts';

const CONFIG = configWith(`
scan:
  targets: ["203.0.113.0/24"]
exceptions:
  - name: infra-mysql
    match: {tenant: infra, ports: ["3306/tcp"]}
    reason: "approved in SEC-200"
    expires: 2027-01-31
`);

const PROCESS_START = new Date('2026-11-26T00:59:00.000Z');
const T1 = new Date('2026-11-26T01:00:41.237Z');
const T2 = new Date('2026-11-26T02:00:41.200Z');
const T3 = new Date('2026-11-26T03:00:12.500Z');
const GENERATED_AT = new Date('2026-11-26T02:05:00.000Z');

const INVENTORY: InventorySnapshot = {
  source: 'openstack',
  up: true,
  syncedAt: new Date('2026-11-26T00:55:00.000Z'),
  servers: 240,
  publicAddresses: [],
  warnings: [],
  security: new Map(),
  owners: new Map([
    ['203.0.113.7', SHOP_DB],
    ['203.0.113.12', BLOG_WEB],
    ['203.0.113.30', INFRA_CI],
  ]),
};

const SERVICES: Record<number, string> = {
  21: 'ftp',
  22: 'ssh',
  80: 'http',
  443: 'https',
  2375: 'docker',
  3306: 'mysql',
  6379: 'redis',
  8080: 'http-proxy',
  9200: 'wap-wsp',
  27017: 'mongod',
};

function host(ip: string, ports: readonly number[]): ObservedHost {
  return { ip, openPorts: ports.map((port) => ({ port, protocol: 'tcp', service: SERVICES[port] ?? '' })) };
}

const NMAP_ARGS = [
  '-sT',
  '-n',
  '--open',
  '-p',
  '21,22,80,443,2375,3306,6379,8080,9200,27017',
  '-T4',
  '-oX',
  '-',
  '-iL',
  '-',
];

/** A scan that took 41.2 s and finished at `finishedAt`. */
function snapshotAt(finishedAt: Date, hosts: readonly ObservedHost[], previous: Snapshot | undefined): Snapshot {
  return buildSnapshot({
    result: scanResult(hosts, finishedAt, { nmapArgs: [NMAP_ARGS], targets: 256, hostsUp: 97 }),
    inventory: INVENTORY,
    rules: CONFIG.rules,
    previous,
  });
}

function attempt(cycle: number, finishedAt: Date, error: CycleAttempt['error'] = null): CycleAttempt {
  return {
    cycle,
    scope: 'sweep',
    addressesScanned: 256,
    startedAt: new Date(finishedAt.getTime() - 41_200),
    finishedAt,
    success: error === null,
    error,
  };
}

const SNAPSHOT_1 = snapshotAt(
  T1,
  [
    host('203.0.113.7', [22, 6379]),
    host('203.0.113.12', [22, 80, 443]),
    host('203.0.113.20', [2375, 8080]),
    host('203.0.113.30', [22, 3306, 21]),
    host('203.0.113.40', [9200]),
  ],
  undefined,
);

/** 27017 opened on db-1 and 9200 closed on .40 since SNAPSHOT_1. */
const SNAPSHOT_2 = snapshotAt(
  T2,
  [
    host('203.0.113.7', [22, 6379, 27017]),
    host('203.0.113.12', [22, 80, 443]),
    host('203.0.113.20', [2375, 8080]),
    host('203.0.113.30', [22, 3306, 21]),
  ],
  SNAPSHOT_1,
);

/** The exporter after two good cycles. */
function twoCycles(): ExporterState {
  const state = new ExporterState({ config: CONFIG, startedAt: PROCESS_START });
  recordCompletedCycle(state, attempt(1, T1), SNAPSHOT_1);
  recordCompletedCycle(state, attempt(2, T2), SNAPSHOT_2);
  return state;
}

interface ReportJson {
  scan: Record<string, unknown> | null;
  inventory: Record<string, unknown> | null;
  summary: Record<string, unknown>;
  hosts: { ip: string; vm: Record<string, unknown> | null; suspicious: boolean; ports: { port: number }[] }[];
  changes: { opened: unknown[]; closed: unknown[] };
}

/** The report as a client receives it: through JSON. */
function report(state: ExporterState, filter: ReportFilter = {}): ReportJson {
  return JSON.parse(JSON.stringify(buildReport(state, filter, GENERATED_AT)));
}

function filterOf(query: string): ReportFilter {
  const parsed = parseReportFilter(new URLSearchParams(query));
  assert.ok(parsed.ok, `expected ${query} to parse`);
  return parsed.filter;
}

/** `ip: port,port` per host, so a failing assertion reads as a table. */
function hostTable(json: ReportJson): string[] {
  return json.hosts.map((h) => `${h.ip}: ${h.ports.map((p) => p.port).join(',')}`);
}

/** The report's `vm` of each owner in test/support/owners.ts, written out as /report must render it. */
const SHOP_DB_VM = {
  id: '8a2f6c1e-3b7d-4e59-9c1a-5d0e7f3b2a61',
  name: 'db-1',
  status: 'ACTIVE',
  owner_kind: 'compute',
  user_id: 'c0ffee1234567890abcdef1234567890',
  user: 'alice',
  user_email: 'alice@shop.example.test',
  tenant_id: '4b1d2e3f5a6b7c8d9e0f1a2b3c4d5e6f',
  tenant: 'shop',
};
const BLOG_WEB_VM = {
  id: '1f0e9d8c-7b6a-4594-8372-6150f4e3d2c1',
  name: 'web-1',
  status: 'ACTIVE',
  owner_kind: 'compute',
  user_id: 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0',
  user: 'bob',
  user_email: 'bob@blog.example.test',
  tenant_id: '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b',
  tenant: 'blog',
};
const INFRA_CI_VM = {
  id: '5c4b3a29-1807-4f6e-9d5c-4b3a29180706',
  name: 'ci-1',
  status: 'ACTIVE',
  owner_kind: 'compute',
  user_id: 'ca7ca7ca7ca7ca7ca7ca7ca7ca7ca7ca',
  user: 'carol',
  user_email: '',
  tenant_id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  tenant: 'infra',
};

describe('parseReportFilter', () => {
  const valid: [query: string, filter: ReportFilter][] = [
    ['', {}],
    ['suspicious=true', { suspicious: true }],
    ['suspicious=false', { suspicious: false }],
    ['tenant=shop', { tenant: 'shop' }],
    ['tenant=4b1d2e3f5a6b7c8d9e0f1a2b3c4d5e6f', { tenant: '4b1d2e3f5a6b7c8d9e0f1a2b3c4d5e6f' }],
    ['severity=high', { severities: ['high'] }],
    ['severity=critical&severity=high', { severities: ['critical', 'high'] }],
    ['severity=critical,high', { severities: ['critical', 'high'] }],
    ['severity=critical,high&severity=low', { severities: ['critical', 'high', 'low'] }],
    ['suspicious=true&tenant=shop&severity=high', { suspicious: true, tenant: 'shop', severities: ['high'] }],
  ];
  for (const [query, filter] of valid) {
    it(`reads ${JSON.stringify(query)}`, () => {
      assert.deepEqual(parseReportFilter(new URLSearchParams(query)), { ok: true, filter });
    });
  }

  const invalid: [query: string, message: string][] = [
    ['vm=db-1', 'unknown filter "vm" (expected one of suspicious, tenant, severity)'],
    ['tenant=shop&Severity=high', 'unknown filter "Severity" (expected one of suspicious, tenant, severity)'],
    ['suspicious=yes', 'suspicious="yes" must be true or false'],
    ['suspicious=', 'suspicious="" must be true or false'],
    ['suspicious=TRUE', 'suspicious="TRUE" must be true or false'],
    ['severity=urgent', 'severity="urgent" must be one of critical, high, medium, low'],
    ['severity=high,', 'severity="" must be one of critical, high, medium, low'],
    ['severity=high&severity=HIGH', 'severity="HIGH" must be one of critical, high, medium, low'],
  ];
  for (const [query, message] of invalid) {
    it(`refuses ${JSON.stringify(query)}: ${message}`, () => {
      assert.deepEqual(parseReportFilter(new URLSearchParams(query)), { ok: false, message });
    });
  }
});

describe('buildReport', () => {
  it('renders the whole report in the shape docs/report.md documents', () => {
    const opened = { ip: '203.0.113.7', port: 27017, protocol: 'tcp' };
    const closed = { ip: '203.0.113.40', port: 9200, protocol: 'tcp' };
    const port = (number: number, rest: Record<string, unknown>, firstSeen = T1) => ({
      port: number,
      protocol: 'tcp',
      service: SERVICES[number],
      exception: null,
      first_seen: firstSeen.toISOString(),
      admitted_by: [],
      port_security: null,
      ...rest,
    });
    const standard = { class: 'standard', severity: null };
    assert.deepEqual(report(twoCycles()), {
      schema_version: 1,
      generated_at: '2026-11-26T02:05:00.000Z',
      scan: {
        started_at: '2026-11-26T02:00:00.000Z',
        finished_at: '2026-11-26T02:00:41.200Z',
        duration_seconds: 41.2,
        success: true,
        error: null,
        last_success_at: '2026-11-26T02:00:41.200Z',
        scope: 'sweep',
        addresses_scanned: 256,
        targets: 256,
        hosts_up: 97,
        addresses_silent: 0,
        nmap: { version: '7.93', args: NMAP_ARGS },
      },
      inventory: { source: 'openstack', up: true, synced_at: '2026-11-26T00:55:00.000Z', servers: 240, addresses: 3 },
      summary: {
        open_ports: 11,
        nonstandard_ports: 5,
        excepted_ports: 1,
        suspicious_vms: 3,
        by_severity: { critical: 1, high: 2, medium: 1, low: 1 },
      },
      hosts: [
        {
          ip: '203.0.113.7',
          vm: SHOP_DB_VM,
          suspicious: true,
          ports: [
            port(22, standard),
            port(6379, { class: 'nonstandard', severity: 'high' }),
            port(27017, { class: 'nonstandard', severity: 'high' }, T2),
          ],
        },
        {
          ip: '203.0.113.12',
          vm: BLOG_WEB_VM,
          suspicious: false,
          ports: [port(22, standard), port(80, standard), port(443, standard)],
        },
        {
          ip: '203.0.113.20',
          vm: null,
          suspicious: true,
          ports: [
            port(2375, { class: 'nonstandard', severity: 'critical' }),
            port(8080, { class: 'nonstandard', severity: 'low' }),
          ],
        },
        {
          ip: '203.0.113.30',
          vm: INFRA_CI_VM,
          suspicious: true,
          ports: [
            port(21, { class: 'nonstandard', severity: 'medium' }),
            port(22, standard),
            port(3306, { class: 'excepted', severity: null, exception: 'infra-mysql' }),
          ],
        },
      ],
      latent: [],
      changes: { opened: [opened], closed: [closed] },
    });
  });

  describe('filters', () => {
    it("a tenant filter by name keeps that tenant's hosts only", () => {
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('tenant=shop'))), ['203.0.113.7: 22,6379,27017']);
    });

    it('a tenant filter by id keeps the same hosts as by name', () => {
      assert.deepEqual(hostTable(report(twoCycles(), filterOf(`tenant=${SHOP_DB.tenantId}`))), [
        '203.0.113.7: 22,6379,27017',
      ]);
    });

    it('an empty tenant filter selects the addresses with no known tenant, as their empty tenant label does', () => {
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('tenant='))), ['203.0.113.20: 2375,8080']);
    });

    it('a tenant filter for an unknown tenant selects nothing', () => {
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('tenant=nobody'))), []);
    });

    it('suspicious=true keeps hosts with a nonstandard port, suspicious=false the others', () => {
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('suspicious=true'))), [
        '203.0.113.7: 22,6379,27017',
        '203.0.113.20: 2375,8080',
        '203.0.113.30: 21,22,3306',
      ]);
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('suspicious=false'))), ['203.0.113.12: 22,80,443']);
    });

    it('a severity filter keeps only the matching ports and the hosts that have one', () => {
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('severity=high'))), ['203.0.113.7: 6379,27017']);
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('severity=critical,medium'))), [
        '203.0.113.20: 2375',
        '203.0.113.30: 21',
      ]);
    });

    it('combined filters must all hold', () => {
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('tenant=infra&severity=medium'))), ['203.0.113.30: 21']);
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('tenant=shop&suspicious=false'))), []);
      assert.deepEqual(hostTable(report(twoCycles(), filterOf('tenant=blog&severity=low'))), []);
    });

    it('counts the summary over the filtered hosts and ports', () => {
      assert.deepEqual(report(twoCycles(), filterOf('tenant=shop')).summary, {
        open_ports: 3,
        nonstandard_ports: 2,
        excepted_ports: 0,
        suspicious_vms: 1,
        by_severity: { critical: 0, high: 2, medium: 0, low: 0 },
      });
      assert.deepEqual(report(twoCycles(), filterOf('severity=critical,low')).summary, {
        open_ports: 2,
        nonstandard_ports: 2,
        excepted_ports: 0,
        suspicious_vms: 1,
        by_severity: { critical: 1, high: 0, medium: 0, low: 1 },
      });
      assert.deepEqual(report(twoCycles(), filterOf('tenant=nobody')).summary, {
        open_ports: 0,
        nonstandard_ports: 0,
        excepted_ports: 0,
        suspicious_vms: 0,
        by_severity: { critical: 0, high: 0, medium: 0, low: 0 },
      });
    });

    it('leaves the scan, inventory and changes blocks unfiltered', () => {
      const full = report(twoCycles());
      const filtered = report(twoCycles(), filterOf('tenant=nobody'));
      assert.deepEqual(filtered.scan, full.scan);
      assert.deepEqual(filtered.inventory, full.inventory);
      assert.deepEqual(filtered.changes, full.changes);
    });
  });

  describe('the scan block', () => {
    it('shows a failed last attempt and its error while hosts still come from the last good snapshot', () => {
      const state = twoCycles();
      recordFailedCycle(
        state,
        attempt(3, T3, { code: 'NMAP_TIMEOUT', message: 'nmap ran longer than scan.timeout (50m)' }),
      );
      const json = report(state);
      assert.deepEqual(json.scan, {
        started_at: '2026-11-26T02:59:31.300Z',
        finished_at: '2026-11-26T03:00:12.500Z',
        duration_seconds: 41.2,
        success: false,
        error: { code: 'NMAP_TIMEOUT', message: 'nmap ran longer than scan.timeout (50m)' },
        last_success_at: '2026-11-26T02:00:41.200Z',
        scope: 'sweep',
        addresses_scanned: 256,
        targets: 256,
        hosts_up: 97,
        addresses_silent: 0,
        nmap: { version: '7.93', args: NMAP_ARGS },
      });
      assert.deepEqual(hostTable(json), hostTable(report(twoCycles())));
      assert.deepEqual(json.hosts, report(twoCycles()).hosts);
      assert.deepEqual(json.changes, report(twoCycles()).changes);
    });

    it('describes a restored snapshot by its own scan times before any cycle ran', () => {
      const state = new ExporterState({ config: CONFIG, startedAt: PROCESS_START });
      state.restore(SNAPSHOT_2);
      const json = report(state);
      assert.deepEqual(json.scan, {
        started_at: '2026-11-26T02:00:00.000Z',
        finished_at: '2026-11-26T02:00:41.200Z',
        duration_seconds: 41.2,
        success: true,
        error: null,
        last_success_at: '2026-11-26T02:00:41.200Z',
        scope: 'sweep',
        addresses_scanned: 256,
        targets: 256,
        hosts_up: 97,
        addresses_silent: 0,
        nmap: { version: '7.93', args: NMAP_ARGS },
      });
      assert.equal(json.hosts.length, 4);
    });

    it('shows a first cycle that failed with no snapshot at all', () => {
      const state = new ExporterState({ config: CONFIG, startedAt: PROCESS_START });
      recordFailedCycle(state, attempt(1, T1, { code: 'NMAP_NOT_FOUND', message: 'nmap was not found at "nmap"' }));
      const json = report(state);
      assert.deepEqual(json.scan, {
        started_at: '2026-11-26T01:00:00.037Z',
        finished_at: '2026-11-26T01:00:41.237Z',
        duration_seconds: 41.2,
        success: false,
        error: { code: 'NMAP_NOT_FOUND', message: 'nmap was not found at "nmap"' },
        last_success_at: null,
        scope: 'sweep',
        addresses_scanned: 256,
        targets: 256,
        hosts_up: 0,
        addresses_silent: 0,
        nmap: { version: '', args: [] },
      });
      assert.deepEqual(json.hosts, []);
    });
  });

  it('is empty but well formed before any cycle', () => {
    const state = new ExporterState({ config: CONFIG, startedAt: PROCESS_START });
    assert.deepEqual(report(state), {
      schema_version: 1,
      generated_at: '2026-11-26T02:05:00.000Z',
      scan: null,
      inventory: null,
      summary: {
        open_ports: 0,
        nonstandard_ports: 0,
        excepted_ports: 0,
        suspicious_vms: 0,
        by_severity: { critical: 0, high: 0, medium: 0, low: 0 },
      },
      hosts: [],
      latent: [],
      changes: { opened: [], closed: [] },
    });
  });

  it('renders vm null for an unknown owner and a vm for a router gateway known by its owner kind', () => {
    const gateway: AddressOwner = {
      ...SHOP_DB,
      vmId: '',
      vmName: '',
      vmStatus: '',
      ownerKind: 'router',
      userId: '',
      user: '',
    };
    const state = new ExporterState({ config: CONFIG, startedAt: PROCESS_START });
    recordCompletedCycle(
      state,
      attempt(1, T1),
      buildSnapshot({
        result: scanResult([host('203.0.113.1', [8080]), host('203.0.113.99', [8080])], SNAPSHOT_1.scan.finishedAt, {
          nmapArgs: [NMAP_ARGS],
        }),
        inventory: { ...INVENTORY, owners: new Map([['203.0.113.1', gateway]]) },
        rules: CONFIG.rules,
        previous: undefined,
      }),
    );
    const json = report(state);
    assert.deepEqual(
      json.hosts.map((h) => [h.ip, h.vm]),
      [
        [
          '203.0.113.1',
          {
            id: '',
            name: '',
            status: '',
            owner_kind: 'router',
            user_id: '',
            user: '',
            user_email: 'alice@shop.example.test',
            tenant_id: '4b1d2e3f5a6b7c8d9e0f1a2b3c4d5e6f',
            tenant: 'shop',
          },
        ],
        ['203.0.113.99', null],
      ],
    );
  });
});

describe('renderReportJson', () => {
  const states: [string, () => ExporterState][] = [
    ['after two cycles', twoCycles],
    ['before any cycle', () => new ExporterState({ config: CONFIG, startedAt: PROCESS_START })],
  ];
  for (const [name, makeState] of states) {
    for (const query of ['', 'suspicious=true', 'severity=critical', 'tenant=nobody']) {
      it(`prints exactly the pretty JSON of buildReport ${name}${query ? ` filtered by ${query}` : ''}`, () => {
        const state = makeState();
        const filter = filterOf(query);
        const text = [...renderReportJson(state, filter, GENERATED_AT)].join('');
        assert.equal(text, JSON.stringify(buildReport(state, filter, GENERATED_AT), null, 2));
      });
    }
  }

  it('writes each host as one piece', () => {
    const pieces = [...renderReportJson(twoCycles(), {}, GENERATED_AT)];
    const hostPieces = pieces.filter((piece) => piece.includes('"ip": "203.0.113.') && piece.includes('"ports"'));
    assert.deepEqual(
      hostPieces.map((piece) => /"ip": "([^"]+)"/.exec(piece)?.[1]),
      ['203.0.113.7', '203.0.113.12', '203.0.113.20', '203.0.113.30'],
    );
  });
});

describe('hasFindings', () => {
  it('is true when a host has a nonstandard port', () => {
    assert.equal(hasFindings(twoCycles()), true);
  });

  it('is false when every open port is standard or excepted', () => {
    const state = new ExporterState({ config: CONFIG, startedAt: PROCESS_START });
    recordCompletedCycle(
      state,
      attempt(1, T1),
      snapshotAt(T1, [host('203.0.113.12', [22, 80, 443]), host('203.0.113.30', [22, 3306])], undefined),
    );
    assert.equal(hasFindings(state), false);
  });

  it('is false before any snapshot exists', () => {
    const state = new ExporterState({ config: CONFIG, startedAt: PROCESS_START });
    recordFailedCycle(state, attempt(1, T1, { code: 'NMAP_FAILED', message: 'nmap exited with code 1' }));
    assert.equal(hasFindings(state), false);
  });

  it('still sees the findings of the last good snapshot after a failed cycle', () => {
    const state = twoCycles();
    recordFailedCycle(state, attempt(3, T3, { code: 'NMAP_FAILED', message: 'nmap exited with code 1' }));
    assert.equal(hasFindings(state), true);
  });
});

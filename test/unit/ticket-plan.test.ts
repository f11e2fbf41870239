import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import type { Snapshot } from '../../src/exposure/snapshot.ts';
import { planTicketChanges } from '../../src/history/ticket-plan.ts';
import type { CycleCoverage } from '../../src/history/ticket-plan.ts';
import type { OpenTicket } from '../../src/history/ticket.ts';
import { NO_INVENTORY, UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import type { AddressOwner } from '../../src/inventory/inventory.ts';
import type { ObservedHost } from '../../src/scan/types.ts';
import { BLOG_WEB, SHOP_DB } from '../support/owners.ts';
import { scanResult, testConfig } from '../support/snapshots.ts';

const T1 = new Date('2026-11-26T01:00:41.200Z');
const T2 = new Date('2026-11-26T02:00:41.200Z');
const T3 = new Date('2026-11-26T03:00:41.200Z');
const OWNERS = new Map<string, AddressOwner>([
  ['203.0.113.7', SHOP_DB],
  ['203.0.113.9', BLOG_WEB],
]);
const EVERYTHING: CycleCoverage = { tcp: () => true, udp: () => true };
const config = testConfig();

function snapshotOf(hosts: readonly ObservedHost[], at: Date, previous?: Snapshot): Snapshot {
  return buildSnapshot({
    result: scanResult(hosts, at),
    inventory: { ...NO_INVENTORY, source: 'file', up: true, owners: OWNERS },
    rules: config.rules,
    previous,
  });
}

const REDIS: ObservedHost = {
  ip: '203.0.113.7',
  openPorts: [
    { port: 22, protocol: 'tcp', service: 'ssh' },
    { port: 6379, protocol: 'tcp', service: 'redis' },
  ],
};
const BLOG: ObservedHost = {
  ip: '203.0.113.9',
  openPorts: [
    { port: 873, protocol: 'tcp', service: 'rsync' },
    { port: 2375, protocol: 'tcp', service: 'docker' },
  ],
};

/** The open tickets a store would read back after committing `opened`, numbered from 1. */
function asOpen(changes: ReturnType<typeof planTicketChanges>): OpenTicket[] {
  return changes.opened.map(({ admittedBy, ...ticket }, index) => ({
    ...ticket,
    id: index + 1,
    admittedByJson: JSON.stringify(admittedBy),
  }));
}

function plan(open: readonly OpenTicket[], snapshot: Snapshot, coverage = EVERYTHING) {
  return planTicketChanges({
    open,
    snapshot,
    coverage,
    ownerOf: (ip) => OWNERS.get(ip) ?? UNKNOWN_OWNER,
    at: snapshot.scan.finishedAt,
  });
}

describe('planTicketChanges', () => {
  it('opens a ticket for each nonstandard and excepted port, none for a standard one', () => {
    const changes = plan([], snapshotOf([REDIS, BLOG], T1));
    assert.deepEqual(
      changes.opened.map((t) => [t.ip, t.port, t.protocol, t.severity, t.owner.tenant, t.openedAt.toISOString()]),
      [
        ['203.0.113.7', 6379, 'tcp', 'high', 'shop', T1.toISOString()],
        ['203.0.113.9', 873, 'tcp', null, 'blog', T1.toISOString()],
        ['203.0.113.9', 2375, 'tcp', 'critical', 'blog', T1.toISOString()],
      ],
    );
    assert.deepEqual(changes.opened[1]!.exceptions, [{ name: 'backup-rsync', from: T1, until: null }]);
    assert.deepEqual(changes.updated, []);
    assert.deepEqual(changes.closed, []);
  });

  it('changes nothing while the same ports stay open', () => {
    const first = snapshotOf([REDIS, BLOG], T1);
    const open = asOpen(plan([], first));
    assert.deepEqual(plan(open, snapshotOf([REDIS, BLOG], T2, first)), { opened: [], updated: [], closed: [] });
  });

  it('opens an exposure seen before history existed at its first-seen time', () => {
    const first = snapshotOf([REDIS], T1);
    const third = snapshotOf([REDIS], T3, snapshotOf([REDIS], T2, first));
    assert.deepEqual(
      plan([], third).opened.map((t) => t.openedAt),
      [T1],
    );
  });

  it('closes a ticket whose port a cycle scanned and saw closed, with the owner at closing', () => {
    const first = snapshotOf([REDIS, BLOG], T1);
    const open = asOpen(plan([], first));
    const changes = plan(open, snapshotOf([REDIS], T2, first));
    assert.deepEqual(changes.closed, [
      { id: 2, closedAt: T2, ownerAtClose: BLOG_WEB },
      { id: 3, closedAt: T2, ownerAtClose: BLOG_WEB },
    ]);
  });

  it('closes nothing the cycle did not scan: another address, or a protocol whose pass did not run', () => {
    const first = snapshotOf([REDIS, BLOG], T1);
    const open = asOpen(plan([], first));
    const onlyRedis: CycleCoverage = { tcp: (ip) => ip === '203.0.113.7', udp: undefined };
    assert.deepEqual(
      plan(open, snapshotOf([], T2, first), onlyRedis).closed.map((c) => c.id),
      [1],
    );
    const udpTicket: OpenTicket = { ...open[0]!, id: 9, port: 161, protocol: 'udp' };
    const noUdp: CycleCoverage = { tcp: () => true, udp: undefined };
    assert.deepEqual(plan([udpTicket], snapshotOf([], T2), noUdp).closed, []);
    assert.deepEqual(
      plan([udpTicket], snapshotOf([], T2)).closed.map((c) => c.id),
      [9],
    );
  });

  it('keeps the highest severity and records when an exception starts and ends', () => {
    const open: OpenTicket[] = [
      {
        id: 4,
        ip: '203.0.113.9',
        port: 873,
        protocol: 'tcp',
        openedAt: T1,
        severity: 'critical',
        service: 'rsync 3.2.7',
        owner: BLOG_WEB,
        admittedByJson: '[]',
        exceptions: [],
      },
    ];
    const started = plan(open, snapshotOf([BLOG], T2));
    assert.deepEqual(started.updated, [
      {
        id: 4,
        severity: 'critical',
        service: 'rsync 3.2.7',
        admittedBy: [],
        exceptions: [{ name: 'backup-rsync', from: T2, until: null }],
      },
    ]);
    const covered = [{ ...open[0]!, exceptions: started.updated[0]!.exceptions }];
    const unexcepted = testConfig('scan:\n  targets: ["203.0.113.0/28"]\n');
    const ended = planTicketChanges({
      open: covered,
      snapshot: buildSnapshot({
        result: scanResult([BLOG], T3),
        inventory: NO_INVENTORY,
        rules: unexcepted.rules,
        previous: undefined,
      }),
      coverage: EVERYTHING,
      ownerOf: () => UNKNOWN_OWNER,
      at: T3,
    });
    assert.deepEqual(ended.updated[0]!.exceptions, [{ name: 'backup-rsync', from: T2, until: T3 }]);
    assert.equal(ended.updated[0]!.severity, 'critical', 'medium now, critical before: the highest stays');
  });

  it('names the verified service once verification found one', () => {
    const verified: ObservedHost = {
      ip: '203.0.113.7',
      openPorts: [
        {
          port: 6379,
          protocol: 'tcp',
          service: 'redis',
          detected: { name: 'redis', product: 'Redis key-value store', version: '7.0.15', unauthenticated: true },
        },
      ],
    };
    assert.equal(plan([], snapshotOf([verified], T1)).opened[0]!.service, 'redis Redis key-value store 7.0.15');
    assert.equal(plan([], snapshotOf([REDIS], T1)).opened[0]!.service, null);
  });
});

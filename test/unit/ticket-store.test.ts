import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { ExporterError } from '../../src/errors.ts';
import type { NewTicket, Ticket, TicketOwner, TicketQuery } from '../../src/history/ticket.ts';
import { TICKET_SCHEMA_VERSION } from '../../src/history/ticket-schema.ts';
import { buildTicketQuery, TicketStore } from '../../src/history/ticket-store.ts';

const T0 = new Date('2026-11-26T01:00:00.000Z');

/** T0 plus the given seconds. */
function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

const SHOP: TicketOwner = {
  vmId: '6c1e9a3e-2f4b-4d8a-9c7e-1b2a3c4d5e6f',
  vmName: 'shop-db',
  vmStatus: 'ACTIVE',
  ownerKind: 'server',
  userId: 'u-alice',
  user: 'alice',
  userEmail: 'alice@example.org',
  tenantId: 'p-shop',
  tenant: 'shop',
};
const BLOG: TicketOwner = { ...SHOP, vmName: 'blog', userId: 'u-bob', user: 'bob', tenantId: 'p-blog', tenant: 'blog' };
/** An owner whose project has no name, only an id. */
const NAMELESS: TicketOwner = { ...SHOP, vmName: 'nameless', tenantId: 'p-nameless', tenant: '' };
const UNKNOWN: TicketOwner = { ...SHOP, vmId: '', vmName: '', ownerKind: 'unknown', tenantId: '', tenant: '' };

/** A new ticket; a closing time makes `seed` close it in a second cycle. */
type SeedTicket = NewTicket & { readonly closedAt?: Date };

function newTicket(overrides: Partial<SeedTicket> = {}): SeedTicket {
  return {
    ip: '203.0.113.7',
    port: 6379,
    protocol: 'tcp',
    openedAt: T0,
    severity: 'high',
    service: null,
    owner: SHOP,
    admittedBy: [],
    exceptions: [],
    ...overrides,
  };
}

const tempDirs: string[] = [];
const stores: TicketStore[] = [];

async function tempPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ee-history-'));
  tempDirs.push(dir);
  return join(dir, 'history.db');
}

async function openStore(options?: { busyTimeoutMs?: number }): Promise<TicketStore> {
  const store = TicketStore.open(await tempPath(), options);
  stores.push(store);
  return store;
}

after(async () => {
  for (const store of stores) store.close();
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function historyFailed(message: string): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof ExporterError, String(err));
    assert.equal(err.code, 'HISTORY_FAILED');
    assert.equal(err.message, message);
    return true;
  };
}

/** Opens each ticket, then closes those with a closing time in a second cycle; returns the ids. */
function seed(store: TicketStore, tickets: readonly SeedTicket[]): number[] {
  const opened = tickets.map(({ closedAt: _, ...ticket }) => ticket);
  const ids = store.commit({ opened, updated: [], closed: [] });
  const closed = tickets.flatMap((ticket, i) =>
    ticket.closedAt === undefined ? [] : [{ id: ids[i]!, closedAt: ticket.closedAt, ownerAtClose: ticket.owner }],
  );
  store.commit({ opened: [], updated: [], closed });
  return ids;
}

function ids(tickets: readonly { id: number }[]): number[] {
  return tickets.map((ticket) => ticket.id);
}

/** The open tickets whole, as /history reads them (openTickets reads a lighter shape). */
function openFull(store: TicketStore): Ticket[] {
  return [...store.query({ state: 'open', limit: 1000 }).tickets];
}

describe('TicketStore.open', () => {
  it('creates the database in WAL mode at the latest schema version', async () => {
    const store = await openStore();
    assert.ok(existsSync(store.path));
    const db = new DatabaseSync(store.path);
    try {
      assert.deepEqual({ ...db.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'wal' });
      assert.deepEqual({ ...db.prepare('PRAGMA user_version').get() }, { user_version: TICKET_SCHEMA_VERSION });
      assert.ok(TICKET_SCHEMA_VERSION >= 1);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
      assert.deepEqual(
        tables.map((row) => row['name']),
        ['remediation_counters', 'tickets'],
      );
    } finally {
      db.close();
    }
  });

  it('keeps the tickets of an existing database when it is opened again', async () => {
    const path = await tempPath();
    const first = TicketStore.open(path);
    const [id] = first.commit({ opened: [newTicket()], updated: [], closed: [] });
    first.close();
    const again = TicketStore.open(path);
    stores.push(again);
    assert.deepEqual(ids(again.openTickets()), [id]);
    assert.deepEqual(again.commit({ opened: [newTicket({ port: 22 })], updated: [], closed: [] }), [id! + 1]);
  });

  it('refuses a database written by a newer schema and leaves it as it was', async () => {
    const path = await tempPath();
    const newer = TICKET_SCHEMA_VERSION + 1;
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${newer}`);
    db.close();
    assert.throws(
      () => TicketStore.open(path),
      historyFailed(
        `history database ${path}: was written by a newer exposure-exporter ` +
          `(schema ${newer}, this one knows ${TICKET_SCHEMA_VERSION})`,
      ),
    );
    const check = new DatabaseSync(path);
    assert.deepEqual({ ...check.prepare('PRAGMA user_version').get() }, { user_version: newer });
    assert.deepEqual({ ...check.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'delete' });
    check.close();
  });

  it('refuses a file that is not a SQLite database, naming the path, and does not touch it', async () => {
    const path = await tempPath();
    const text = 'scan_targets:\n  - 203.0.113.0/24\n'.repeat(20);
    await writeFile(path, text);
    assert.throws(() => TicketStore.open(path), historyFailed(`history database ${path}: file is not a database`));
    assert.equal(await readFile(path, 'utf8'), text);
  });

  it('refuses a path that cannot be created', async () => {
    // Tests run as root, which ignores directory permissions; a parent that is a regular file stops root too.
    const parent = await tempPath();
    await writeFile(parent, 'not a directory');
    const path = join(parent, 'history.db');
    assert.throws(
      () => TicketStore.open(path),
      historyFailed(`history database ${path}: unable to open database file`),
    );
  });
});

describe('TicketStore.commit', () => {
  it('opens tickets and reads every field back, dates as dates and absent values as null', async () => {
    const store = await openStore();
    const verified = newTicket({
      ip: '2001:db8::5',
      port: 27017,
      openedAt: new Date('2026-11-26T01:00:41.237Z'),
      severity: 'critical',
      service: 'mongodb MongoDB 7.0.2',
      // The inventory's owner carries more than a ticket keeps; only the declared fields are stored.
      owner: { ...BLOG, flavor: 'm1.large' } as TicketOwner,
      admittedBy: [
        { security_group_id: 'sg-1', security_group: 'default', rule_id: 'r-1', remote: '0.0.0.0/0' },
        { security_group_id: 'sg-2', security_group: 'db', rule_id: 'r-2', remote: '::/0' },
      ],
      exceptions: [
        { name: 'migration', from: new Date('2026-11-20T08:00:00.500Z'), until: new Date('2026-11-21T08:00:00.000Z') },
        { name: 'backup window', from: new Date('2026-11-25T23:00:00.000Z'), until: null },
      ],
    });
    const bare = newTicket({ openedAt: at(60), protocol: 'sctp', severity: null, owner: UNKNOWN });
    const opened = store.commit({ opened: [verified, bare], updated: [], closed: [] });
    assert.deepEqual(opened, [1, 2]);
    const expected: Ticket[] = [
      { ...bare, id: 2, closedAt: null, reopened: false, ownerAtClose: null },
      { ...verified, owner: BLOG, id: 1, closedAt: null, reopened: false, ownerAtClose: null },
    ];
    assert.deepEqual(openFull(store), expected);
    const [lightBare, lightVerified] = store.openTickets();
    assert.deepEqual(lightVerified?.owner, {
      vmId: BLOG.vmId,
      vmName: BLOG.vmName,
      ownerKind: BLOG.ownerKind,
      tenantId: BLOG.tenantId,
      tenant: BLOG.tenant,
    });
    assert.equal(lightVerified?.admittedByJson, JSON.stringify(verified.admittedBy));
    assert.deepEqual(lightVerified?.exceptions, verified.exceptions);
    assert.deepEqual(lightBare?.owner, { vmId: '', vmName: '', ownerKind: 'unknown', tenantId: '', tenant: '' });
    assert.equal(lightBare?.admittedByJson, '[]');
  });

  it('skips a ticket whose address, port and protocol already have an open one', async () => {
    const store = await openStore();
    assert.deepEqual(
      store.commit({ opened: [newTicket(), newTicket({ openedAt: at(1) })], updated: [], closed: [] }),
      [1, -1],
    );
    const again = store.commit({
      opened: [newTicket({ openedAt: at(3600) }), newTicket({ protocol: 'udp' }), newTicket({ port: 6380 })],
      updated: [],
      closed: [],
    });
    assert.deepEqual(again, [-1, 2, 3]);
    const first = store.openTickets().find((ticket) => ticket.id === 1);
    assert.deepEqual(first?.openedAt, T0);
  });

  it('closing records the time and the owner then, and counts the time open per severity and tenant', async () => {
    const store = await openStore();
    const [shopA, shopB, nameless, unowned, unrated] = store.commit({
      opened: [
        newTicket({ port: 22 }),
        newTicket({ port: 23, openedAt: at(600) }),
        newTicket({ ip: '198.51.100.4', severity: 'critical', owner: NAMELESS }),
        newTicket({ ip: '198.51.100.5', severity: 'low', owner: UNKNOWN }),
        newTicket({ ip: '198.51.100.6', severity: null }),
      ],
      updated: [],
      closed: [],
    });
    const movedTo = { ...SHOP, vmId: 'f0e1d2c3-b4a5-4968-8776-655443322110', vmName: 'shop-db-2' };
    store.commit({
      opened: [],
      updated: [],
      closed: [
        { id: shopA!, closedAt: at(3600), ownerAtClose: movedTo },
        { id: shopB!, closedAt: at(2400), ownerAtClose: SHOP },
        { id: nameless!, closedAt: at(90.5), ownerAtClose: NAMELESS },
        { id: unowned!, closedAt: at(7200), ownerAtClose: UNKNOWN },
        { id: unrated!, closedAt: at(60), ownerAtClose: SHOP },
      ],
    });
    assert.deepEqual(store.openTickets(), []);
    const closedA = store.query({ ip: '203.0.113.7', limit: 10 }).tickets.find((ticket) => ticket.id === shopA);
    assert.deepEqual(closedA?.closedAt, at(3600));
    assert.deepEqual(closedA?.ownerAtClose, movedTo);
    assert.deepEqual(closedA?.owner, SHOP);
    const byKey = (a: { severity: string; tenant: string }, b: { severity: string; tenant: string }): number =>
      `${a.severity}/${a.tenant}`.localeCompare(`${b.severity}/${b.tenant}`);
    // shop/high: 3600 s + (2400 - 600) s; the nameless tenant counts under its id; the unrated ticket not at all.
    assert.deepEqual(store.counters().sort(byKey), [
      { severity: 'critical', tenant: 'p-nameless', closed: 1, openSeconds: 90.5 },
      { severity: 'high', tenant: 'shop', closed: 2, openSeconds: 5400 },
      { severity: 'low', tenant: '', closed: 1, openSeconds: 7200 },
    ]);
  });

  it('closing a ticket twice or closing an unknown ticket changes nothing', async () => {
    const store = await openStore();
    const [id] = store.commit({ opened: [newTicket()], updated: [], closed: [] });
    const closing = { opened: [], updated: [], closed: [{ id: id!, closedAt: at(3600), ownerAtClose: SHOP }] };
    store.commit(closing);
    store.commit(closing);
    store.commit({ opened: [], updated: [], closed: [{ id: id!, closedAt: at(7200), ownerAtClose: BLOG }] });
    store.commit({ opened: [], updated: [], closed: [{ id: 999, closedAt: at(7200), ownerAtClose: BLOG }] });
    assert.deepEqual(store.counters(), [{ severity: 'high', tenant: 'shop', closed: 1, openSeconds: 3600 }]);
    const [ticket] = store.query({ limit: 10 }).tickets;
    assert.deepEqual([ticket?.closedAt, ticket?.ownerAtClose], [at(3600), SHOP]);
  });

  it('a ticket opened after an earlier one of its address, port and protocol closed is reopened', async () => {
    const store = await openStore();
    seed(store, [newTicket({ closedAt: at(3600) })]);
    const [reopened, other] = store.commit({
      opened: [newTicket({ openedAt: at(7200) }), newTicket({ openedAt: at(7200), protocol: 'udp' })],
      updated: [],
      closed: [],
    });
    const open = new Map(openFull(store).map((ticket) => [ticket.id, ticket.reopened]));
    assert.deepEqual(
      open,
      new Map([
        [reopened, true],
        [other, false],
      ]),
    );
  });

  it('updated rewrites severity, service, admitting rules and exceptions of an open ticket only', async () => {
    const store = await openStore();
    const [open] = store.commit({ opened: [newTicket()], updated: [], closed: [] });
    const [closed] = seed(store, [newTicket({ port: 22, closedAt: at(60) })]);
    const change = {
      severity: 'critical' as const,
      service: 'redis Redis key-value store 7.2.4',
      admittedBy: [{ security_group_id: 'sg-9', security_group: 'cache', rule_id: 'r-9', remote: '0.0.0.0/0' }],
      exceptions: [{ name: 'load test', from: at(30), until: at(90) }],
    };
    store.commit({
      opened: [],
      updated: [
        { id: open!, ...change },
        { id: closed!, ...change },
      ],
      closed: [],
    });
    const [updated] = openFull(store);
    assert.deepEqual(updated, {
      ...newTicket(),
      ...change,
      id: open,
      closedAt: null,
      reopened: false,
      ownerAtClose: null,
    });
    const [untouched] = store.query({ state: 'closed', limit: 10 }).tickets;
    assert.deepEqual([untouched?.severity, untouched?.service, untouched?.exceptions], ['high', null, []]);
  });

  it('a commit that fails halfway leaves nothing of the cycle behind', async () => {
    const store = await openStore();
    const [kept, open] = store.commit({ opened: [newTicket(), newTicket({ port: 22 })], updated: [], closed: [] });
    const before = store.openTickets();
    assert.throws(
      () =>
        store.commit({
          updated: [{ id: kept!, severity: 'low', service: 'redis', admittedBy: [], exceptions: [] }],
          closed: [{ id: open!, closedAt: at(60), ownerAtClose: SHOP }],
          // The second opening breaks the port CHECK after everything else was written.
          opened: [newTicket({ port: 80 }), newTicket({ port: 70000 })],
        }),
      (err: unknown) => {
        assert.ok(err instanceof ExporterError);
        assert.equal(err.code, 'HISTORY_FAILED');
        assert.match(err.message, /^history database .*history\.db: CHECK constraint failed: /);
        return true;
      },
    );
    assert.deepEqual(store.openTickets(), before);
    assert.deepEqual(store.counters(), []);
    assert.deepEqual(store.commit({ opened: [newTicket({ port: 80 })], updated: [], closed: [] }), [3]);
  });

  it('a commit blocked by another writer fails as HISTORY_FAILED, writes nothing, and the next one succeeds', async () => {
    const store = await openStore({ busyTimeoutMs: 50 });
    const [id] = store.commit({ opened: [newTicket()], updated: [], closed: [] });
    const before = store.openTickets();
    const cycle = {
      opened: [newTicket({ port: 22 })],
      updated: [],
      closed: [{ id: id!, closedAt: at(60), ownerAtClose: SHOP }],
    };
    const blocker = new DatabaseSync(store.path);
    blocker.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    try {
      assert.throws(() => store.commit(cycle), historyFailed(`history database ${store.path}: database is locked`));
      assert.ok(performance.now() - started >= 40, 'waited for the busy timeout');
      // WAL lets the store read while the other writer holds its lock.
      assert.deepEqual(store.openTickets(), before);
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    assert.deepEqual(store.openTickets(), before);
    assert.deepEqual(store.counters(), []);
    assert.deepEqual(store.commit(cycle), [2]);
    assert.deepEqual(ids(store.openTickets()), [2]);
  });
});

describe('TicketStore.query', () => {
  /** Seven tickets; 4 and 5 open at the same time, so the order falls back to the id. */
  const OPENINGS = [0, 60, 120, 180, 180, 240, 300];

  async function sevenTickets(): Promise<TicketStore> {
    const store = await openStore();
    seed(
      store,
      OPENINGS.map((seconds, i) => newTicket({ port: 8000 + i, openedAt: at(seconds) })),
    );
    return store;
  }

  it('pages newest opening first, then highest id, and says when there is no next page', async () => {
    const store = await sevenTickets();
    const pages: number[][] = [];
    let query: TicketQuery = { limit: 3 };
    for (;;) {
      const page = store.query(query);
      pages.push(ids(page.tickets));
      if (page.next === null) break;
      const last = page.tickets.at(-1)!;
      assert.deepEqual(page.next, { openedAt: last.openedAt, id: last.id });
      query = { limit: 3, after: page.next };
    }
    assert.deepEqual(pages, [[7, 6, 5], [4, 3, 2], [1]]);
    // A page that ends exactly at the last ticket has no next page.
    assert.equal(store.query({ limit: 7 }).next, null);
    assert.deepEqual(store.query({ limit: 2, after: { openedAt: at(180), id: 5 } }).next, {
      openedAt: at(120),
      id: 3,
    });
  });

  it('filters by state', async () => {
    const store = await openStore();
    seed(store, [
      newTicket({ port: 1, closedAt: at(60) }),
      newTicket({ port: 2, openedAt: at(10) }),
      newTicket({ port: 3, openedAt: at(20), closedAt: at(30) }),
    ]);
    assert.deepEqual(ids(store.query({ state: 'open', limit: 10 }).tickets), [2]);
    assert.deepEqual(ids(store.query({ state: 'closed', limit: 10 }).tickets), [3, 1]);
    assert.deepEqual(ids(store.query({ limit: 10 }).tickets), [3, 2, 1]);
  });

  it('filters by tenant, matching its name or its id at opening', async () => {
    const store = await openStore();
    seed(store, [
      newTicket({ port: 1, owner: SHOP, closedAt: at(60) }),
      newTicket({ port: 2, owner: BLOG, openedAt: at(10) }),
      newTicket({ port: 3, owner: NAMELESS, openedAt: at(20) }),
      newTicket({ port: 4, owner: SHOP, openedAt: at(30) }),
      // A project named as another's id: both match a search for that text.
      newTicket({ port: 5, owner: { ...BLOG, tenant: 'p-shop', tenantId: 'p-other' }, openedAt: at(40) }),
      // A project whose name is its id matches twice and is listed once.
      newTicket({ port: 6, owner: { ...BLOG, tenant: 'p-same', tenantId: 'p-same' }, openedAt: at(50) }),
    ]);
    assert.deepEqual(ids(store.query({ tenant: 'shop', limit: 10 }).tickets), [4, 1]);
    assert.deepEqual(ids(store.query({ tenant: 'p-shop', limit: 10 }).tickets), [5, 4, 1]);
    assert.deepEqual(ids(store.query({ tenant: 'p-nameless', limit: 10 }).tickets), [3]);
    assert.deepEqual(ids(store.query({ tenant: 'p-same', limit: 10 }).tickets), [6]);
    assert.deepEqual(ids(store.query({ tenant: 'blog', limit: 10 }).tickets), [2]);
    assert.deepEqual(ids(store.query({ tenant: 'nobody', limit: 10 }).tickets), []);
    const first = store.query({ tenant: 'p-shop', limit: 2 });
    assert.deepEqual([ids(first.tickets), first.next], [[5, 4], { openedAt: at(30), id: 4 }]);
    assert.deepEqual(ids(store.query({ tenant: 'p-shop', limit: 2, after: first.next! }).tickets), [1]);
  });

  it('filters by severities, leaving out tickets with none', async () => {
    const store = await openStore();
    seed(store, [
      newTicket({ port: 1, severity: 'critical' }),
      newTicket({ port: 2, severity: 'high', openedAt: at(10) }),
      newTicket({ port: 3, severity: 'low', openedAt: at(20) }),
      newTicket({ port: 4, severity: null, openedAt: at(30) }),
    ]);
    assert.deepEqual(ids(store.query({ severities: ['critical', 'low'], limit: 10 }).tickets), [3, 1]);
    assert.deepEqual(ids(store.query({ severities: ['medium'], limit: 10 }).tickets), []);
    assert.deepEqual(ids(store.query({ severities: [], limit: 10 }).tickets), []);
  });

  it('filters by address', async () => {
    const store = await openStore();
    seed(store, [
      newTicket({ ip: '203.0.113.7', port: 1 }),
      newTicket({ ip: '2001:db8::5', port: 1, openedAt: at(10) }),
      newTicket({ ip: '203.0.113.7', port: 2, openedAt: at(20), closedAt: at(30) }),
    ]);
    assert.deepEqual(ids(store.query({ ip: '203.0.113.7', limit: 10 }).tickets), [3, 1]);
    assert.deepEqual(ids(store.query({ ip: '2001:db8::5', limit: 10 }).tickets), [2]);
    assert.deepEqual(ids(store.query({ ip: '203.0.113.70', limit: 10 }).tickets), []);
  });

  it('since and until select the tickets open at some time in [since, until)', async () => {
    const store = await openStore();
    const hour = 3600;
    seed(store, [
      newTicket({ port: 1, openedAt: at(0), closedAt: at(0.5 * hour) }), // 1: 01:00–01:30
      newTicket({ port: 2, openedAt: at(0.1 * hour), closedAt: at(1.5 * hour) }), // 2: 01:06–02:30
      newTicket({ port: 3, openedAt: at(1 * hour), closedAt: at(2 * hour) }), // 3: 02:00–03:00
      newTicket({ port: 4, openedAt: at(2.5 * hour) }), // 4: 03:30, still open
      newTicket({ port: 5, openedAt: at(3 * hour), closedAt: at(3.2 * hour) }), // 5: 04:00–04:12
    ]);
    const between = (since?: number, until?: number): number[] =>
      ids(
        store.query({
          limit: 10,
          ...(since === undefined ? {} : { since: at(since * hour) }),
          ...(until === undefined ? {} : { until: at(until * hour) }),
        }).tickets,
      );
    // 2 closes exactly at since, so it counts; 5 opens exactly at until, so it does not.
    assert.deepEqual(between(1.5, 3), [4, 3, 2]);
    assert.deepEqual(between(3.1), [5, 4]);
    assert.deepEqual(between(undefined, 1), [2, 1]);
    assert.deepEqual(between(0.6, 0.7), [2]);
    assert.deepEqual(between(5, 6), [4]);
    assert.deepEqual(between(-2, -1), []);
  });

  it('ANDs the filters together', async () => {
    const store = await openStore();
    seed(store, [
      newTicket({ port: 1, owner: SHOP, severity: 'high', closedAt: at(60) }),
      newTicket({ port: 2, owner: SHOP, severity: 'high', openedAt: at(10) }),
      newTicket({ port: 3, owner: SHOP, severity: 'low', openedAt: at(20) }),
      newTicket({ port: 4, owner: BLOG, severity: 'high', openedAt: at(30) }),
      newTicket({ ip: '198.51.100.4', port: 5, owner: SHOP, severity: 'high', openedAt: at(40) }),
    ]);
    const query = { tenant: 'p-shop', severities: ['high' as const], ip: '203.0.113.7', limit: 10 };
    assert.deepEqual(ids(store.query(query).tickets), [2, 1]);
    assert.deepEqual(ids(store.query({ ...query, state: 'open' }).tickets), [2]);
    assert.deepEqual(ids(store.query({ ...query, until: at(5) }).tickets), [1]);
  });

  it('reads a tenant page, an address and the open tickets through indexes, never the whole table', async () => {
    const store = await openStore();
    const db = new DatabaseSync(store.path);
    const plan = (query: TicketQuery): string[] => {
      const { sql, params } = buildTicketQuery(query);
      return db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(params)
        .map((row) => String(row['detail']));
    };
    try {
      const after = { openedAt: T0, id: 40 };
      const tenantPage = plan({ tenant: 'shop', state: 'closed', severities: ['high'], limit: 50, after });
      // Both legs walk their tenant index in page order, so SQLite merges them without sorting the tenant.
      assert.ok(tenantPage.includes('SEARCH tickets USING INDEX tickets_by_tenant (tenant=? AND opened_at<?)'));
      assert.ok(tenantPage.includes('SEARCH tickets USING INDEX tickets_by_tenant_id (tenant_id=? AND opened_at<?)'));
      assert.ok(!tenantPage.some((line) => line.startsWith('USE TEMP B-TREE')), tenantPage.join('\n'));
      const address = plan({ ip: '203.0.113.7', limit: 50 });
      assert.ok(address.includes('SEARCH tickets USING INDEX tickets_key (ip=?)'), address.join('\n'));
      const open = plan({ state: 'open', limit: 50 });
      assert.ok(open.includes('SEARCH tickets USING INDEX tickets_by_closing (closed_at=?)'), open.join('\n'));
      const newest = plan({ limit: 50 });
      assert.deepEqual(newest, ['SCAN tickets USING INDEX tickets_by_opening']);
      for (const lines of [tenantPage, address, open, newest]) {
        // A full table scan reads exactly "SCAN tickets"; a walk along an index names the index.
        assert.ok(!lines.includes('SCAN tickets'), lines.join('\n'));
      }
    } finally {
      db.close();
    }
  });
});

describe('TicketStore.prune', () => {
  it('deletes only the tickets closed before the date, never open ones, and keeps the counters', async () => {
    const store = await openStore();
    seed(store, [
      newTicket({ port: 1, closedAt: at(3600) }),
      newTicket({ port: 2, closedAt: at(7200) }),
      newTicket({ port: 3, closedAt: at(10800) }),
      newTicket({ port: 4 }),
    ]);
    const counters = store.counters();
    assert.deepEqual(counters, [{ severity: 'high', tenant: 'shop', closed: 3, openSeconds: 21600 }]);
    assert.equal(store.prune(at(7200)), 1);
    assert.deepEqual(ids(store.query({ limit: 10 }).tickets), [4, 3, 2]);
    assert.equal(store.prune(at(7200)), 0);
    assert.equal(store.prune(at(10 * 86400)), 2);
    assert.deepEqual(ids(store.query({ limit: 10 }).tickets), [4]);
    assert.deepEqual(store.counters(), counters);
  });
});

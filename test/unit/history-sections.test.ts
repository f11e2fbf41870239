import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_REMEDIATION_TARGETS } from '../../src/config/history-settings.ts';
import type { HistorySettings } from '../../src/config/history-settings.ts';
import { HistoryRecorder } from '../../src/history/history-recorder.ts';
import type { NewTicket, Ticket, TicketOwner, TicketPage, TicketQuery } from '../../src/history/ticket.ts';
import { TicketStore } from '../../src/history/ticket-store.ts';
import { silentLogger } from '../../src/log.ts';
import { formatAge, READ_LIMIT, renderHistorySections } from '../../src/page/history-sections.ts';
import type { HistorySource } from '../../src/page/history-sections.ts';
import { renderLandingPage } from '../../src/page/landing-page.ts';
import { parseHistoryRequest } from '../../src/report/history-report.ts';
import type { ReportFilter } from '../../src/report/report.ts';
import { ExporterState } from '../../src/state/exporter-state.ts';
import { buildPageSnapshot, pageConfig } from '../support/page-snapshots.ts';

const NOW = new Date('2026-11-26T02:00:00.000Z');
const SINCE = '2026-11-19T02:00:00.000Z';
const BUILD = { version: '0.1.0', revision: 'abc123', nodejsVersion: 'v24.21.0', nmapVersion: '7.93' };

/** NOW minus the given days, hours and seconds. */
function ago(days: number, hours = 0, seconds = 0): Date {
  return new Date(NOW.getTime() - ((days * 24 + hours) * 3600 + seconds) * 1000);
}

const ALPHA: TicketOwner = {
  vmId: 'vm-alpha-web',
  vmName: 'web-1',
  vmStatus: 'ACTIVE',
  ownerKind: 'compute',
  userId: 'u-alice',
  user: 'alice',
  userEmail: 'alice@example.org',
  tenantId: 'p-alpha',
  tenant: 'alpha',
};
const BETA: TicketOwner = { ...ALPHA, vmId: 'vm-beta-db', vmName: 'db-1', tenantId: 'p-beta', tenant: 'beta' };
const HOSTILE_TENANT = '<script>alert(1)</script>';
const HOSTILE_VM = '<script>alert(2)</script>';
const HOSTILE: TicketOwner = {
  ...ALPHA,
  vmId: 'vm-h',
  vmName: HOSTILE_VM,
  tenantId: 'p-hostile',
  tenant: HOSTILE_TENANT,
};
const NOBODY: TicketOwner = { ...ALPHA, vmId: '', vmName: '', ownerKind: '', tenantId: '', tenant: '' };

type SeedTicket = NewTicket & { readonly closedAt?: Date };

function ticket(ip: string, port: number, openedAt: Date, overrides: Partial<SeedTicket> = {}): SeedTicket {
  const base = { service: null, owner: ALPHA, admittedBy: [], exceptions: [] };
  return { ip, port, protocol: 'tcp', openedAt, severity: 'high', ...base, ...overrides };
}

/** Each ticket is named in the comments of the expectations below by its port. */
const SEEDED: readonly SeedTicket[] = [
  ticket('203.0.113.7', 6379, ago(2)),
  ticket('203.0.113.7', 8080, ago(7), { severity: 'medium' }),
  ticket('203.0.113.7', 8081, ago(7, 0, 1), { severity: 'low' }),
  ticket('203.0.113.7', 2375, ago(20), { severity: 'critical' }),
  ticket('203.0.113.9', 5432, ago(40), { severity: 'medium' }),
  ticket('203.0.113.9', 9000, ago(60), { severity: null, exceptions: [{ name: 'lab', from: ago(60), until: null }] }),
  ticket('203.0.113.20', 9200, ago(10), { owner: BETA, closedAt: ago(1) }),
  ticket('203.0.113.20', 9300, ago(9), { owner: BETA, closedAt: ago(7) }),
  ticket('203.0.113.20', 9400, ago(9), { owner: BETA, closedAt: ago(7, 0, 1) }),
  ticket('203.0.113.20', 11211, ago(3), { owner: BETA, closedAt: ago(3, -5) }),
  ticket('203.0.113.30', 27017, ago(0, 1), { owner: HOSTILE, severity: 'critical' }),
  ticket('203.0.113.50', 9100, ago(5), { owner: NOBODY, severity: 'medium' }),
];

const SETTINGS: HistorySettings = {
  enabled: true,
  path: undefined,
  retentionMs: 400 * 24 * 3600 * 1000,
  remediationTargetsMs: DEFAULT_REMEDIATION_TARGETS,
};

const tempDirs: string[] = [];
const stores: TicketStore[] = [];

after(async () => {
  for (const store of stores) store.close();
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ee-history-page-'));
  tempDirs.push(dir);
  return dir;
}

/** A real database holding `tickets`, read the way the recorder reads it. */
async function seededHistory(tickets: readonly SeedTicket[], settings = SETTINGS): Promise<HistorySource> {
  const store = TicketStore.open(join(await tempDir(), 'history.db'));
  stores.push(store);
  const ids = store.commit({ opened: tickets, updated: [], closed: [] });
  const closed = tickets.flatMap((seed, index) =>
    seed.closedAt ? [{ id: ids[index] ?? -1, closedAt: seed.closedAt, ownerAtClose: seed.owner }] : [],
  );
  store.commit({ opened: [], updated: [], closed });
  return {
    view: { open: store.openTickets(), counters: [], lastWriteSuccessful: true },
    query: (query) => store.query(query),
    settings,
  };
}

function render(history: HistorySource, filter: ReportFilter = {}): string {
  return renderHistorySections({ history, filter, now: NOW });
}

function decode(text: string): string {
  return text.replace(/<[^>]*>/g, '').replace(/&#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)));
}

/** Each section's body rows as their cells' text, by section title. */
function sectionCells(html: string): Map<string, string[][]> {
  const sections = new Map<string, string[][]>();
  for (const part of html.split('<h3>').slice(1)) {
    const rows = [...part.matchAll(/<tr>(.*?)<\/tr>/g)].map(([, row]) =>
      [...(row ?? '').matchAll(/<td[^>]*>(.*?)<\/td>/g)].map(([, cell]) => decode(cell ?? '')),
    );
    sections.set(
      part.slice(0, part.indexOf('</h3>')),
      rows.filter((cells) => cells.length > 0),
    );
  }
  return sections;
}

/** `tenant address port` of each ticket row (overflow rows have one cell and are left out), by section. */
function listed(html: string): Record<string, string[]> {
  return Object.fromEntries(
    [...sectionCells(html)].map(([title, rows]) => [
      title,
      rows.filter((cells) => cells.length > 1).map(([tenant, , ip, port]) => `${tenant} ${ip} ${port}`),
    ]),
  );
}

/** The cells of the row of `port` in `section`. */
function rowOf(html: string, section: string, port: number): string[] {
  const row = sectionCells(html)
    .get(section)
    ?.find((cells) => cells[3] === `${port}/tcp`);
  assert.ok(row, `${section} has a row for port ${port}`);
  return row;
}

/** The links to /history, but for those of each row's address. */
function hrefs(html: string): string[] {
  return [...html.matchAll(/<a href="([^"]*)">/g)]
    .map(([, href]) => decode(href ?? ''))
    .filter((href) => !href.startsWith('history?ip='));
}

describe('renderHistorySections', () => {
  it('lists what opened and closed in the last 7 days and what is open longest, grouped by tenant', async () => {
    const html = render(await seededHistory(SEEDED));
    assert.deepEqual(listed(html), {
      'Opened in the last 7 days': [
        `${HOSTILE_TENANT} 203.0.113.30 27017/tcp`,
        'alpha 203.0.113.7 6379/tcp',
        'alpha 203.0.113.7 8080/tcp',
        'beta 203.0.113.20 11211/tcp',
        'no tenant 203.0.113.50 9100/tcp',
      ],
      'Closed in the last 7 days': [
        'beta 203.0.113.20 9200/tcp',
        'beta 203.0.113.20 11211/tcp',
        'beta 203.0.113.20 9300/tcp',
      ],
      // Oldest first; 9000 is left out, an exception covers it.
      'Open longest': [
        `${HOSTILE_TENANT} 203.0.113.30 27017/tcp`,
        'alpha 203.0.113.9 5432/tcp',
        'alpha 203.0.113.7 2375/tcp',
        'alpha 203.0.113.7 8081/tcp',
        'alpha 203.0.113.7 8080/tcp',
        'alpha 203.0.113.7 6379/tcp',
        'no tenant 203.0.113.50 9100/tcp',
      ],
    });
  });

  it('counts a ticket opened or closed exactly 7 days ago in, and one a second earlier out', async () => {
    const sections = listed(render(await seededHistory(SEEDED)));
    assert.ok(sections['Opened in the last 7 days']?.includes('alpha 203.0.113.7 8080/tcp'));
    assert.ok(!sections['Opened in the last 7 days']?.includes('alpha 203.0.113.7 8081/tcp'));
    assert.ok(sections['Closed in the last 7 days']?.includes('beta 203.0.113.20 9300/tcp'));
    assert.ok(!sections['Closed in the last 7 days']?.includes('beta 203.0.113.20 9400/tcp'));
  });

  it('shows the dates and the time open, and which open tickets are past their remediation target', async () => {
    const html = render(await seededHistory(SEEDED));
    assert.deepEqual(rowOf(html, 'Open longest', 2375), [
      'alpha',
      'web-1',
      '203.0.113.7',
      '2375/tcp',
      'critical',
      '2026-11-06 02:00 UTC',
      '20d overdue (target 15d)',
    ]);
    // Medium has no target by default: never overdue, however old.
    assert.equal(rowOf(html, 'Open longest', 5432)[6], '40d');
    assert.deepEqual(rowOf(html, 'Closed in the last 7 days', 9200).slice(4), [
      'high',
      '2026-11-16 02:00 UTC',
      '2026-11-25 02:00 UTC',
      '9d',
    ]);
    assert.equal(rowOf(html, 'Opened in the last 7 days', 11211)[6], '5h closed');
    assert.equal(rowOf(html, 'Opened in the last 7 days', 27017)[6], '1h');
  });

  it('takes the targets from the history settings', async () => {
    const targets = new Map([...DEFAULT_REMEDIATION_TARGETS, ['medium', 30 * 24 * 3600 * 1000] as const]);
    const html = render(await seededHistory(SEEDED, { ...SETTINGS, remediationTargetsMs: targets }));
    assert.equal(rowOf(html, 'Open longest', 5432)[6], '40d overdue (target 30d)');
    assert.equal(rowOf(html, 'Open longest', 8080)[6], '7d');
  });

  it('applies the page filter: the tenant by name or id at opening, and the severity', async () => {
    const history = await seededHistory(SEEDED);
    assert.deepEqual(listed(render(history, { tenant: 'p-beta' })), {
      'Opened in the last 7 days': ['beta 203.0.113.20 11211/tcp'],
      'Closed in the last 7 days': [
        'beta 203.0.113.20 9200/tcp',
        'beta 203.0.113.20 11211/tcp',
        'beta 203.0.113.20 9300/tcp',
      ],
      'Open longest': [],
    });
    assert.deepEqual(listed(render(history, { tenant: 'alpha', severities: ['critical', 'medium'] })), {
      'Opened in the last 7 days': ['alpha 203.0.113.7 8080/tcp'],
      'Closed in the last 7 days': [],
      'Open longest': ['alpha 203.0.113.9 5432/tcp', 'alpha 203.0.113.7 2375/tcp', 'alpha 203.0.113.7 8080/tcp'],
    });
    assert.ok(render(history, { tenant: 'nobody' }).includes('<p class="empty">No tickets match this view.</p>'));
  });

  it('escapes a tenant and a VM named like a script element', async () => {
    const html = render(await seededHistory(SEEDED));
    assert.doesNotMatch(html, /<script/i);
    assert.ok(html.includes('<span title="p-hostile">&#60;script&#62;alert(1)&#60;/script&#62;</span>'));
    assert.ok(html.includes('<span title="vm-h">&#60;script&#62;alert(2)&#60;/script&#62;</span>'));
  });

  it('says in one line that history is unavailable when the database cannot be read', async () => {
    const path = join(await tempDir(), 'missing-directory', 'history.db');
    const recorder = new HistoryRecorder({ path, settings: SETTINGS, log: silentLogger });
    const message = (() => {
      try {
        recorder.query({ limit: 1 });
      } catch (err) {
        return (err as Error).message;
      }
      assert.fail('the database cannot be opened');
    })();
    assert.match(message, /^history database .*missing-directory\/history\.db: /);
    const html = render(recorder);
    const line = `<p>History is unavailable: ${message}</p>`;
    assert.equal(html.split(line).length - 1, 2, 'once for opened, once for closed');
    assert.deepEqual(listed(html)['Open longest'], []);
  });

  it('caps a tenant at 20 rows and a section at 200, linking to the /history query that lists the rest', async () => {
    const many: SeedTicket[] = [];
    for (let n = 0; n < 25; n++) many.push(ticket('198.51.100.1', 1000 + n, ago(1, 0, n)));
    for (let t = 1; t <= 12; t++) {
      const owner = { ...BETA, tenantId: `p-t${String(t).padStart(2, '0')}`, tenant: `t${String(t).padStart(2, '0')}` };
      for (let n = 0; n < 20; n++) many.push(ticket(`198.51.100.${t + 1}`, 1000 + n, ago(2, 0, n), { owner }));
    }
    const history = await seededHistory(many);
    const html = render(history);
    const opened = sectionCells(html).get('Opened in the last 7 days') ?? [];
    const rows = opened.filter((cells) => cells.length > 1);
    assert.equal(rows.length, 200);
    assert.equal(rows.filter(([tenant]) => tenant === 'alpha').length, 20);
    assert.deepEqual(rows.at(-1)?.slice(0, 4), ['t09', 'db-1', '198.51.100.10', '1019/tcp']);
    assert.deepEqual(
      opened.filter((cells) => cells.length === 1),
      [['… and 5 more in alpha: see them in /history']],
    );
    const [section] = html.split('<h3>Closed in the last 7 days</h3>');
    assert.ok(section?.includes('<p>… and 60 more in 3 more tenants: <a href='));
    const links = hrefs(section ?? '');
    const alphaLink = `history?since=${encodeURIComponent(SINCE)}&tenant=p-alpha`;
    assert.deepEqual(links.slice(1), [alphaLink, `history?since=${encodeURIComponent(SINCE)}`]);
    // The link lists every one of alpha's tickets: /history reads it back as the query that finds all 25.
    const request = parseHistoryRequest(new URL(alphaLink, 'http://exporter/').searchParams);
    assert.ok(request.ok);
    assert.equal(history.query({ ...request.query, limit: 1000 }).tickets.length, 25);
    assert.deepEqual(
      sectionCells(html)
        .get('Open longest')
        ?.filter((cells) => cells.length === 1),
      [['… and 5 more in alpha: see them in /history']],
    );
    assert.ok(hrefs(html).includes('history?state=open&tenant=p-alpha'));
  });

  it('keeps the tenant and severity filters in its /history links', async () => {
    const html = render(await seededHistory(SEEDED), { tenant: 'beta', severities: ['high'], suspicious: true });
    assert.deepEqual(hrefs(html), ['history?tenant=beta&severity=high']);
    assert.ok(html.includes('<td><a href="history?ip=203.0.113.20"><code>203.0.113.20</code></a></td>'));
    assert.ok(html.includes('<a href="history?tenant=beta&#38;severity=high">'));
  });

  it(`reads at most ${READ_LIMIT} tickets a section and says that the counts are of those`, () => {
    const tickets: Ticket[] = Array.from({ length: READ_LIMIT + 30 }, (_, n) => ({
      ...ticket('192.0.2.1', 1 + n, ago(0, 1, n)),
      id: READ_LIMIT + 30 - n,
      reopened: false,
      closedAt: null,
      ownerAtClose: null,
    }));
    const pages: TicketQuery[] = [];
    // Newest first, keyset-paged on the id, as the store pages.
    const query = (q: TicketQuery): TicketPage => {
      pages.push(q);
      const start = q.after === undefined ? 0 : tickets.findIndex((t) => t.id === q.after?.id) + 1;
      const page = tickets.slice(start, start + q.limit);
      const last = page.at(-1);
      const more = start + q.limit < tickets.length && last !== undefined;
      return { tickets: page, next: more ? { openedAt: last.openedAt, id: last.id } : null };
    };
    const html = render({ view: { open: [], counters: [], lastWriteSuccessful: true }, query, settings: SETTINGS });
    const [openedPart] = html.split('<h3>Closed in the last 7 days</h3>');
    assert.deepEqual(
      sectionCells(openedPart ?? '')
        .get('Opened in the last 7 days')
        ?.filter((cells) => cells.length === 1),
      [[`… and at least ${READ_LIMIT - 20} more in alpha: see them in /history`]],
    );
    assert.ok(
      openedPart?.includes(`<p>Only the ${READ_LIMIT} tickets opened last were read for this section: <a href=`),
    );
    assert.ok(pages.every((page) => page.limit <= 1000));
  });
});

describe('formatAge', () => {
  it('gives the two largest units, rounded down', () => {
    assert.equal(formatAge(((3 * 24 + 4) * 60 + 59) * 60_000), '3d 4h');
    assert.equal(formatAge(15 * 24 * 3600_000), '15d');
    assert.equal(formatAge((5 * 60 + 12) * 60_000 + 999), '5h 12m');
    assert.equal(formatAge(2 * 3600_000), '2h');
    assert.equal(formatAge(59_999), 'under 1m');
  });
});

describe('the landing page with history', () => {
  function state(): ExporterState {
    const restored = new ExporterState({ config: pageConfig(), startedAt: new Date('2026-11-26T02:00:00Z') });
    restored.restore(buildPageSnapshot());
    return restored;
  }

  it('adds the history part after the latent exposures, and nothing without a recorder', async () => {
    const history = await seededHistory(SEEDED);
    const withHistory = renderLandingPage({ state: state(), build: BUILD, history, now: NOW });
    assert.deepEqual(
      [...withHistory.matchAll(/<h2>(.*?)<\/h2>/g)].map(([, heading]) => heading),
      ['Exposures by tenant', 'Latent exposures', 'History'],
    );
    assert.ok(withHistory.endsWith(`${render(history)}\n</body>\n</html>\n`));
    const without = renderLandingPage({ state: state(), build: BUILD, now: NOW });
    assert.doesNotMatch(without, /History|history/);
  });

  it('still renders the exposures when the history database is unavailable', async () => {
    const path = join(await tempDir(), 'missing-directory', 'history.db');
    const history = new HistoryRecorder({ path, settings: SETTINGS, log: silentLogger });
    const html = renderLandingPage({ state: state(), build: BUILD, history, now: NOW });
    assert.ok(html.includes('<td><code>203.0.113.11</code></td><td>2375/tcp</td>'));
    assert.match(html, /<p>History is unavailable: history database [^<]*<\/p>/);
  });
});

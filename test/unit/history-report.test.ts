import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_HISTORY_LIMIT,
  parseHistoryRequest,
  renderCursor,
  renderHistoryCsv,
  renderHistoryJson,
} from '../../src/report/history-report.ts';
import type { Ticket } from '../../src/history/ticket.ts';
import { SHOP_DB } from '../support/owners.ts';

const parse = (query: string) => parseHistoryRequest(new URLSearchParams(query));

const TICKET: Ticket = {
  id: 7,
  ip: '203.0.113.7',
  port: 6379,
  protocol: 'tcp',
  openedAt: new Date('2026-11-01T10:00:00Z'),
  closedAt: new Date('2026-11-03T10:00:00Z'),
  reopened: true,
  severity: 'high',
  service: 'redis 7.0.15',
  owner: SHOP_DB,
  ownerAtClose: { ...SHOP_DB, vmName: 'db-2' },
  admittedBy: [{ security_group_id: 'sg-1', security_group: 'default', rule_id: 'r-1', remote: '0.0.0.0/0' }],
  exceptions: [{ name: 'sec-7', from: new Date('2026-11-02T00:00:00Z'), until: null }],
};

describe('parseHistoryRequest', () => {
  it('reads every filter into one query, the /report ones included', () => {
    const parsed = parse(
      'state=closed&tenant=shop&severity=critical,high&ip=2001:db8::0:1&since=2026-11-01T00:00:00Z&until=1767225600&limit=50&next=1762000000000-12&format=csv',
    );
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.query, {
      state: 'closed',
      tenant: 'shop',
      severities: ['critical', 'high'],
      ip: '2001:db8::1',
      since: new Date('2026-11-01T00:00:00Z'),
      until: new Date(1767225600 * 1000),
      limit: 50,
      after: { openedAt: new Date(1762000000000), id: 12 },
    });
    assert.equal(parsed.format, 'csv');
    assert.equal(parsed.none, false);
  });

  it('defaults to 100 tickets of JSON, and suspicious=false matches no ticket', () => {
    const parsed = parse('');
    assert.ok(parsed.ok);
    assert.equal(parsed.query.limit, 100);
    assert.equal(parsed.format, 'json');
    const none = parse('suspicious=false');
    assert.ok(none.ok && none.none);
  });

  it('names the bad value', () => {
    const problems = [
      ['state=gone', 'state="gone" must be open or closed'],
      ['limit=0', `limit="0" must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`],
      ['limit=1001', `limit="1001" must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`],
      ['since=yesterday', 'since="yesterday" must be an RFC 3339 time (2026-12-01T00:00:00Z) or Unix seconds'],
      ['ip=db-1', 'ip="db-1" is not an IP address'],
      ['next=abc', 'next="abc" is not a cursor this exporter returned'],
      ['format=xml', 'format="xml" must be json or csv'],
      ['state=open&state=closed', 'state is given 2 times; give it once'],
      ['severity=urgent', 'severity="urgent" must be one of critical, high, medium, low'],
      [
        'vm=db-1',
        'unknown filter "vm" (expected one of suspicious, tenant, severity, state, since, until, ip, limit, next, format)',
      ],
    ];
    for (const [query, message] of problems) assert.deepEqual(parse(query!), { ok: false, message }, query);
  });
});

describe('renderHistoryJson', () => {
  it('writes each ticket as SPEC §16 names its fields, and the cursor of the next page', () => {
    const json = renderHistoryJson({ tickets: [TICKET], next: { openedAt: TICKET.openedAt, id: 7 } }) as {
      tickets: Record<string, unknown>[];
      next: string;
    };
    assert.equal(json.next, `${Date.parse('2026-11-01T10:00:00Z')}-7`);
    const ticket = json.tickets[0]!;
    assert.deepEqual(Object.keys(ticket), [
      'id',
      'ip',
      'port',
      'protocol',
      'opened_at',
      'closed_at',
      'reopened',
      'severity',
      'service',
      'vm',
      'vm_at_close',
      'admitted_by',
      'exceptions',
    ]);
    assert.equal(ticket['closed_at'], '2026-11-03T10:00:00.000Z');
    assert.equal((ticket['vm'] as { name: string; tenant: string }).name, 'db-1');
    assert.equal((ticket['vm_at_close'] as { name: string }).name, 'db-2');
    assert.deepEqual(ticket['exceptions'], [{ name: 'sec-7', from: '2026-11-02T00:00:00.000Z', until: null }]);
  });

  it('says null for the next page of the last one', () => {
    assert.deepEqual(renderHistoryJson({ tickets: [], next: null }), { tickets: [], next: null });
    assert.equal(renderCursor({ openedAt: new Date(5), id: 3 }), '5-3');
  });
});

describe('renderHistoryCsv', () => {
  it('writes a header and one row per ticket', () => {
    const lines = renderHistoryCsv({ tickets: [TICKET], next: null }).split('\r\n');
    assert.equal(
      lines[0],
      'id,ip,port,protocol,opened_at,closed_at,reopened,severity,service,tenant,tenant_id,user,user_email,vm,vm_id,tenant_at_close,vm_at_close,admitted_by,exceptions',
    );
    assert.equal(
      lines[1],
      `7,203.0.113.7,6379,tcp,2026-11-01T10:00:00.000Z,2026-11-03T10:00:00.000Z,true,high,redis 7.0.15,shop,${SHOP_DB.tenantId},alice,alice@shop.example.test,db-1,${SHOP_DB.vmId},shop,db-2,default 0.0.0.0/0,sec-7`,
    );
    assert.equal(lines[2], '');
  });

  it('quotes commas and quotes, and defuses what a spreadsheet would run as a formula', () => {
    const hostile = { ...SHOP_DB, tenant: '=HYPERLINK("http://x","y")', vmName: 'a,b', user: '-2+3', userEmail: '@x' };
    const row = renderHistoryCsv({ tickets: [{ ...TICKET, owner: hostile, ownerAtClose: null }], next: null }).split(
      '\r\n',
    )[1]!;
    assert.ok(row.includes(`,"'=HYPERLINK(""http://x"",""y"")",`), row);
    assert.ok(row.includes(',"a,b",'), row);
    assert.ok(row.includes(",'-2+3,'@x,"), row);
  });
});

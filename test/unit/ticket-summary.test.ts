import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_REMEDIATION_TARGETS } from '../../src/config/history-settings.ts';
import { summarizeTickets, tenantLabel } from '../../src/history/ticket-summary.ts';
import type { OpenTicket } from '../../src/history/ticket.ts';
import { UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import { BLOG_WEB, SHOP_DB } from '../support/owners.ts';
import { openTicketAged } from '../support/tickets.ts';

const NOW = new Date('2026-12-31T00:00:00Z');

const ticket = (id: number, daysOpen: number, fields: Partial<OpenTicket> = {}) =>
  openTicketAged(id, daysOpen, NOW, fields);

describe('summarizeTickets', () => {
  it('counts open and overdue per severity and tenant against the targets (critical 15d, high 30d)', () => {
    const summary = summarizeTickets(
      [
        ticket(1, 16),
        ticket(2, 14),
        ticket(3, 31, { severity: 'high' }),
        ticket(4, 29, { severity: 'high', owner: BLOG_WEB }),
        ticket(5, 400, { severity: 'medium' }),
      ],
      DEFAULT_REMEDIATION_TARGETS,
      NOW,
    );
    assert.deepEqual(
      summary.counts.map((c) => [c.severity, c.tenant, c.open, c.overdue]),
      [
        ['critical', 'shop', 2, 1],
        ['high', 'shop', 1, 1],
        ['high', 'blog', 1, 0],
        ['medium', 'shop', 1, 0],
      ],
    );
    assert.deepEqual(
      [...summary.oldestOpenAgeSeconds],
      [
        ['critical', 16 * 86400],
        ['high', 31 * 86400],
        ['medium', 400 * 86400],
      ],
    );
  });

  it('leaves out tickets an exception covers now and tickets that never had a severity', () => {
    const covered = ticket(1, 20, { exceptions: [{ name: 'sec-7', from: NOW, until: null }] });
    const lapsed = ticket(2, 20, { exceptions: [{ name: 'sec-7', from: new Date(0), until: NOW }] });
    const summary = summarizeTickets(
      [covered, lapsed, ticket(3, 20, { severity: null })],
      DEFAULT_REMEDIATION_TARGETS,
      NOW,
    );
    assert.deepEqual(
      summary.counts.map((c) => [c.severity, c.open, c.overdue]),
      [['critical', 1, 1]],
    );
  });

  it('labels a tenant by name, by id without a name, and empty without an owner', () => {
    assert.equal(tenantLabel(SHOP_DB), 'shop');
    assert.equal(tenantLabel({ ...SHOP_DB, tenant: '' }), SHOP_DB.tenantId);
    assert.equal(tenantLabel(UNKNOWN_OWNER), '');
  });
});

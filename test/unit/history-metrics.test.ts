import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { defaultConfig } from '../../src/config/schema.ts';
import type { HistoryView } from '../../src/history/history-recorder.ts';
import type { OpenTicket } from '../../src/history/ticket.ts';
import { registerHistoryMetrics } from '../../src/metrics/history-metrics.ts';
import { BLOG_WEB } from '../support/owners.ts';
import { openTicketAged } from '../support/tickets.ts';

const NOW = new Date('2026-12-31T00:00:00Z');

const ticket = (id: number, daysOpen: number, fields: Partial<OpenTicket> = {}) =>
  openTicketAged(id, daysOpen, NOW, fields);

async function exposition(view: HistoryView): Promise<string[]> {
  const registry = new Registry();
  registerHistoryMetrics(registry, { view, settings: defaultConfig().history }, () => NOW);
  return (await registry.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('registerHistoryMetrics', () => {
  it('counts open and overdue tickets, the targets, the oldest age and the persisted counters', async () => {
    const lines = await exposition({
      open: [ticket(1, 20), ticket(2, 3), ticket(3, 40, { severity: 'high', owner: BLOG_WEB })],
      counters: [{ severity: 'critical', tenant: 'shop', closed: 3, openSeconds: 5400 }],
      lastWriteSuccessful: true,
    });
    assert.deepEqual(lines, [
      'exposure_tickets_open{severity="critical",tenant="shop"} 2',
      'exposure_tickets_open{severity="high",tenant="blog"} 1',
      'exposure_tickets_overdue{severity="critical",tenant="shop"} 1',
      'exposure_tickets_overdue{severity="high",tenant="blog"} 1',
      'exposure_remediation_target_seconds{severity="critical"} 1296000',
      'exposure_remediation_target_seconds{severity="high"} 2592000',
      'exposure_ticket_oldest_open_age_seconds{severity="critical"} 1728000',
      'exposure_ticket_oldest_open_age_seconds{severity="high"} 3456000',
      'exposure_tickets_closed_total{severity="critical",tenant="shop"} 3',
      'exposure_tickets_open_seconds_total{severity="critical",tenant="shop"} 5400',
      'exposure_history_last_write_successful 1',
    ]);
  });

  it('leaves the write health out before the first cycle, and says 0 after a failed write', async () => {
    const empty = { open: [], counters: [] };
    const before = await exposition({ ...empty, lastWriteSuccessful: undefined });
    assert.ok(!before.some((line) => line.startsWith('exposure_history_last_write_successful')), before.join('\n'));
    assert.ok(
      (await exposition({ ...empty, lastWriteSuccessful: false })).includes('exposure_history_last_write_successful 0'),
    );
  });
});

/** The tickets' metrics, read from the history's view at scrape time: open, overdue, oldest, time to remediate. */
import type { Registry } from 'prom-client';
import type { HistoryRecorder } from '../history/history-recorder.ts';
import { summarizeTickets } from '../history/ticket-summary.ts';
import type { TicketSummary } from '../history/ticket-summary.ts';
import { registerOptionalGauge, registerRenderedFamily } from './gauges.ts';

export function registerHistoryMetrics(
  registry: Registry,
  history: Pick<HistoryRecorder, 'view' | 'settings'>,
  now: () => Date = () => new Date(),
): void {
  const targets = history.settings.remediationTargetsMs;
  // One pass over the open tickets per scrape, not one per family: the three families read the same summary.
  let last: { view: object; second: number; summary: TicketSummary } | undefined;
  const summarize = (): TicketSummary => {
    const at = now();
    const second = Math.floor(at.getTime() / 1000);
    if (last?.view !== history.view || last.second !== second) {
      last = { view: history.view, second, summary: summarizeTickets(history.view.open, targets, at) };
    }
    return last.summary;
  };
  const byTenant = ['severity', 'tenant'] as const;
  registerRenderedFamily(
    registry,
    {
      name: 'exposure_tickets_open',
      help: 'Open tickets no exception covers, by highest severity and the tenant that owned the address when it opened.',
      labelNames: byTenant,
    },
    (set) => {
      for (const { severity, tenant, open } of summarize().counts) set({ severity, tenant }, open);
    },
  );
  registerRenderedFamily(
    registry,
    {
      name: 'exposure_tickets_overdue',
      help: "Open tickets no exception covers that have been open longer than their severity's remediation target.",
      labelNames: byTenant,
    },
    (set) => {
      for (const { severity, tenant, overdue } of summarize().counts) set({ severity, tenant }, overdue);
    },
  );
  registerRenderedFamily(
    registry,
    {
      name: 'exposure_remediation_target_seconds',
      help: 'The remediation target per severity (history.remediation_targets); severities without one have no series.',
      labelNames: ['severity'],
    },
    (set) => {
      for (const [severity, ms] of targets) set({ severity }, ms / 1000);
    },
  );
  registerRenderedFamily(
    registry,
    {
      name: 'exposure_ticket_oldest_open_age_seconds',
      help: 'Age of the oldest open ticket no exception covers, per severity.',
      labelNames: ['severity'],
    },
    (set) => {
      for (const [severity, age] of summarize().oldestOpenAgeSeconds) set({ severity }, age);
    },
  );
  registerRemediationCounters(registry, history);
  registerOptionalGauge(
    registry,
    {
      name: 'exposure_history_last_write_successful',
      help: "Whether the last cycle's tickets were written to the history database (1) or not (0); absent before the first cycle.",
    },
    () => {
      const { lastWriteSuccessful } = history.view;
      return lastWriteSuccessful === undefined ? undefined : Number(lastWriteSuccessful);
    },
  );
}

/** Kept in the database, so they survive restarts: read at each scrape, never counted here. */
function registerRemediationCounters(registry: Registry, history: Pick<HistoryRecorder, 'view'>): void {
  const labelNames = ['severity', 'tenant'] as const;
  registerRenderedFamily(
    registry,
    {
      name: 'exposure_tickets_closed_total',
      help: 'Tickets closed, by highest severity and tenant at opening.',
      labelNames,
      counter: true,
    },
    (set) => {
      for (const { severity, tenant, closed } of history.view.counters) set({ severity, tenant }, closed);
    },
  );
  registerRenderedFamily(
    registry,
    {
      name: 'exposure_tickets_open_seconds_total',
      help: 'The time the closed tickets were open, in seconds: divided by exposure_tickets_closed_total, the mean time to remediate.',
      labelNames,
      counter: true,
    },
    (set) => {
      for (const { severity, tenant, openSeconds } of history.view.counters) set({ severity, tenant }, openSeconds);
    },
  );
}

/** Writes each cycle's tickets to the database and keeps what the metrics read; a failing database stops nothing. */
import type { HistorySettings } from '../config/history-settings.ts';
import { ExporterError, describeError } from '../errors.ts';
import { UNKNOWN_OWNER } from '../inventory/inventory.ts';
import type { AddressOwner } from '../inventory/inventory.ts';
import type { Logger } from '../log.ts';
import type { Snapshot } from '../exposure/snapshot.ts';
import { planTicketChanges } from './ticket-plan.ts';
import type { CycleCoverage } from './ticket-plan.ts';
import { TicketStore } from './ticket-store.ts';
import type { OpenTicket, RemediationCounter, TicketChanges, TicketPage, TicketQuery } from './ticket.ts';
import { renderRulesJson } from './ticket-schema.ts';

/** What the metrics and the page read between cycles: the last state the database was seen in. */
export interface HistoryView {
  readonly open: readonly OpenTicket[];
  readonly counters: readonly RemediationCounter[];
  /** Undefined until a cycle's tickets were written or failed to be. */
  readonly lastWriteSuccessful: boolean | undefined;
}

export interface CycleTickets {
  readonly snapshot: Snapshot;
  readonly coverage: CycleCoverage;
  readonly ownerOf: (ip: string) => AddressOwner;
}

export class HistoryRecorder {
  readonly path: string;
  readonly settings: HistorySettings;
  readonly #log: Logger;
  readonly #keepView: boolean;
  #store: TicketStore | undefined;
  #view: HistoryView = { open: [], counters: [], lastWriteSuccessful: undefined };

  /** `keepView: false` (--once, which serves no metrics) reads no more of the database than a cycle needs. */
  constructor(options: { path: string; settings: HistorySettings; log: Logger; keepView?: boolean }) {
    this.path = options.path;
    this.settings = options.settings;
    this.#log = options.log;
    this.#keepView = options.keepView ?? true;
  }

  get view(): HistoryView {
    return this.#view;
  }

  /** Seeds a new database from the restored snapshot: an upgrade loses no exposure, even one closed in cycle one. */
  load(restored: Snapshot | undefined): void {
    try {
      const store = this.#openStore();
      if (restored && store.isEmpty()) {
        const nothingScanned = { tcp: () => false, udp: undefined };
        const at = restored.scan.finishedAt;
        store.commit(
          planTicketChanges({
            snapshot: restored,
            coverage: nothingScanned,
            ownerOf: () => UNKNOWN_OWNER,
            open: [],
            at,
          }),
        );
      }
      if (this.#keepView) this.#view = { ...this.#view, open: store.openTickets(), counters: store.counters() };
    } catch (err) {
      this.#fail(err);
    }
  }

  // Planned against the open tickets the database holds now: after an outage, the first cycle that writes again
  // reconciles every cycle missed.
  record(cycle: CycleTickets): void {
    const at = cycle.snapshot.scan.finishedAt;
    try {
      const store = this.#openStore();
      const open = store.openTickets({ withOwners: this.#keepView });
      const changes = planTicketChanges({ ...cycle, open, at });
      const ids = store.commit(changes);
      store.prune(new Date(at.getTime() - this.settings.retentionMs));
      this.#view = this.#keepView
        ? {
            open: applyChanges(open, changes, store.ticketsById(ids.filter((id) => id !== -1))),
            counters: store.counters(),
            lastWriteSuccessful: true,
          }
        : { ...this.#view, lastWriteSuccessful: true };
      if (changes.opened.length + changes.closed.length > 0) {
        this.#log.debug('history written', { opened: changes.opened.length, closed: changes.closed.length });
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  /** A page of /history; throws HISTORY_FAILED while the database cannot be read. */
  query(query: TicketQuery): TicketPage {
    try {
      return this.#openStore().query(query);
    } catch (err) {
      this.#dropStore();
      throw err;
    }
  }

  close(): void {
    this.#dropStore();
  }

  #openStore(): TicketStore {
    this.#store ??= TicketStore.open(this.path);
    return this.#store;
  }

  /** The next cycle opens the database again: a file replaced or repaired meanwhile is read afresh. */
  #dropStore(): void {
    try {
      this.#store?.close();
    } catch {
      // Closing a broken connection can fail too; it is dropped either way.
    }
    this.#store = undefined;
  }

  #fail(err: unknown): void {
    this.#dropStore();
    this.#view = { ...this.#view, lastWriteSuccessful: false };
    const reason = err instanceof ExporterError ? err.message : describeError(err);
    this.#log.error('cannot write history; scanning and serving go on', { path: this.path, reason });
  }
}

/**
 * The open tickets after a commit, from those before it: reading every open ticket again would double what a
 * cycle of a large fleet spends on its history (bench/history.ts).
 */
function applyChanges(
  open: readonly OpenTicket[],
  changes: TicketChanges,
  opened: readonly OpenTicket[],
): OpenTicket[] {
  const closed = new Set(changes.closed.map((closure) => closure.id));
  const updates = new Map(changes.updated.map((update) => [update.id, update]));
  const kept = open
    .filter((ticket) => !closed.has(ticket.id))
    .map((ticket) => {
      const update = updates.get(ticket.id);
      if (!update) return ticket;
      const { severity, service, exceptions, admittedBy } = update;
      return { ...ticket, severity, service, exceptions, admittedByJson: renderRulesJson(admittedBy) };
    });
  return [...opened, ...kept];
}

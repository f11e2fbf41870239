// Exposure tickets and remediation counters in SQLite, one transaction per scan cycle. Every SQLite failure
// leaves here as HISTORY_FAILED naming the database file and SQLite's reason.
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { ExporterError } from '../errors.ts';
import type {
  OpenTicket,
  RemediationCounter,
  TicketChanges,
  TicketClosure,
  TicketPage,
  TicketQuery,
  TicketSeverity,
} from './ticket.ts';
import {
  newTicketParams,
  parseOpenTicket,
  parseTicket,
  pickOwner,
  OPEN_TICKET_COLUMNS,
  OWNER_SUMMARY_COLUMNS,
  TICKET_COLUMNS,
  TICKET_MIGRATIONS,
  TICKET_SCHEMA_VERSION,
  type TicketRow,
  updateParams,
} from './ticket-schema.ts';
import { tenantLabel } from './ticket-summary.ts';

const DEFAULT_BUSY_TIMEOUT_MS = 2000;

const NEWEST_FIRST = 'ORDER BY opened_at DESC, id DESC';

interface ClosedRow {
  opened_at: number;
  severity: TicketSeverity | null;
  tenant: string;
  tenant_id: string;
}

interface CounterRow {
  severity: TicketSeverity;
  tenant: string;
  closed: number;
  open_seconds: number;
}

export class TicketStore {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #update: StatementSync;
  readonly #close: StatementSync;
  readonly #count: StatementSync;
  readonly #openTickets: StatementSync;
  readonly #openTicketsWithOwners: StatementSync;
  readonly #counters: StatementSync;
  readonly #prune: StatementSync;
  readonly #any: StatementSync;
  readonly #byIds: StatementSync;
  /** One statement per shape of query, so /history pages reuse their plans. */
  readonly #queries = new Map<string, StatementSync>();

  static open(path: string, options: { busyTimeoutMs?: number } = {}): TicketStore {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
      // The first read of the file: a file that is not a database fails here, before anything is written.
      refuseNewerSchema(db);
      db.exec('PRAGMA journal_mode = WAL');
      // A ticket the cycle committed must survive a SIGKILL or a power loss; WAL alone only survives the first.
      db.exec('PRAGMA synchronous = FULL');
      migrate(db);
      return new TicketStore(db, path);
    } catch (err) {
      if (db?.isOpen) db.close();
      throw historyError(path, err);
    }
  }

  private constructor(db: DatabaseSync, path: string) {
    this.path = path;
    this.#db = db;
    this.#insert = db.prepare(`
      INSERT INTO tickets (ip, port, protocol, opened_at, reopened, severity, service, owner, tenant_id, tenant,
        admitted_by, exceptions)
      VALUES ($ip, $port, $protocol, $openedAt,
        EXISTS (SELECT 1 FROM tickets WHERE ip = $ip AND port = $port AND protocol = $protocol
          AND closed_at IS NOT NULL),
        $severity, $service, $owner, $tenantId, $tenant, $admittedBy, $exceptions)
      ON CONFLICT DO NOTHING RETURNING id`);
    this.#update = db.prepare(`
      UPDATE tickets SET severity = $severity, service = $service, admitted_by = $admittedBy, exceptions = $exceptions
      WHERE id = $id AND closed_at IS NULL`);
    this.#close = db.prepare(`
      UPDATE tickets SET closed_at = $closedAt, owner_at_close = $ownerAtClose
      WHERE id = $id AND closed_at IS NULL
      RETURNING opened_at, severity, tenant, tenant_id`);
    this.#count = db.prepare(`
      INSERT INTO remediation_counters (severity, tenant, closed, open_seconds) VALUES ($severity, $tenant, 1, $seconds)
      ON CONFLICT (severity, tenant) DO UPDATE SET closed = closed + 1, open_seconds = open_seconds + $seconds`);
    const openSql = (columns: string) => `SELECT ${columns} FROM tickets WHERE closed_at IS NULL ${NEWEST_FIRST}`;
    this.#openTickets = arrays(db.prepare(openSql(OPEN_TICKET_COLUMNS)));
    this.#openTicketsWithOwners = arrays(db.prepare(openSql(`${OPEN_TICKET_COLUMNS}, ${OWNER_SUMMARY_COLUMNS}`)));
    this.#counters = db.prepare('SELECT severity, tenant, closed, open_seconds FROM remediation_counters');
    this.#prune = db.prepare('DELETE FROM tickets WHERE closed_at < $closedBefore');
    this.#any = db.prepare('SELECT 1 FROM tickets LIMIT 1');
    this.#byIds = arrays(
      db.prepare(
        `SELECT ${OPEN_TICKET_COLUMNS}, ${OWNER_SUMMARY_COLUMNS} FROM tickets
        WHERE id IN (SELECT value FROM json_each($ids)) ${NEWEST_FIRST}`,
      ),
    );
  }

  /** The tickets with these ids, newest opening first: what a commit just opened, without reading every open one. */
  ticketsById(ids: readonly number[]): OpenTicket[] {
    return this.#guard(() => this.#byIds.all({ ids: JSON.stringify(ids) }).map(parseOpenTicket));
  }

  /** Whether no ticket was ever written (or all were pruned): a new database. */
  isEmpty(): boolean {
    return this.#guard(() => this.#any.get() === undefined);
  }

  /** Every open ticket, newest opening first; the owners' summaries only `withOwners` (the page and metrics). */
  openTickets(options: { withOwners?: boolean } = {}): OpenTicket[] {
    return this.#guard(() => {
      const statement = options.withOwners === false ? this.#openTickets : this.#openTicketsWithOwners;
      // Row by row: the rows of a 25,000-ticket read never exist all at once beside the tickets made of them.
      const tickets: OpenTicket[] = [];
      for (const row of statement.iterate()) tickets.push(parseOpenTicket(row));
      return tickets;
    });
  }

  /** Returns the new tickets' ids in the order given, -1 for one whose key already has an open ticket. */
  commit(changes: TicketChanges): number[] {
    return this.#guard(() => {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        // Updates before closings, so a ticket closed in the cycle that raised its severity counts as the raised one;
        // openings last, so an address, port and protocol closed in this cycle may open again in it.
        for (const update of changes.updated) this.#update.run(updateParams(update));
        for (const closure of changes.closed) this.#closeTicket(closure);
        const ids = changes.opened.map((ticket) => {
          const row = this.#insert.get(newTicketParams(ticket)) as { id: number } | undefined;
          return row === undefined ? -1 : row.id;
        });
        this.#db.exec('COMMIT');
        return ids;
      } catch (err) {
        rollBack(this.#db);
        throw err;
      }
    });
  }

  query(query: TicketQuery): TicketPage {
    return this.#guard(() => {
      const { sql, params } = buildTicketQuery(query);
      let statement = this.#queries.get(sql);
      if (statement === undefined) {
        statement = this.#db.prepare(sql);
        this.#queries.set(sql, statement);
      }
      const rows = statement.all(params) as unknown as TicketRow[];
      const tickets = rows.slice(0, query.limit).map(parseTicket);
      const last = tickets.at(-1);
      const next = rows.length > query.limit && last !== undefined ? { openedAt: last.openedAt, id: last.id } : null;
      return { tickets, next };
    });
  }

  counters(): RemediationCounter[] {
    return this.#guard(() =>
      (this.#counters.all() as unknown as CounterRow[]).map((row) => ({
        severity: row.severity,
        tenant: row.tenant,
        closed: row.closed,
        openSeconds: row.open_seconds,
      })),
    );
  }

  /** Returns how many tickets were deleted; the counters keep what they counted. */
  prune(closedBefore: Date): number {
    return this.#guard(() => Number(this.#prune.run({ closedBefore: closedBefore.getTime() }).changes));
  }

  close(): void {
    if (this.#db.isOpen) this.#guard(() => this.#db.close());
  }

  /** Closing an unknown or already closed ticket does nothing, so a replayed cycle counts nothing twice. */
  #closeTicket(closure: TicketClosure): void {
    const closedAt = closure.closedAt.getTime();
    const row = this.#close.get({
      id: closure.id,
      closedAt,
      ownerAtClose: JSON.stringify(pickOwner(closure.ownerAtClose)),
    }) as ClosedRow | undefined;
    if (row === undefined || row.severity === null) return;
    // A clock stepped back must not make a counter shrink: Prometheus would read that as a restart.
    const seconds = Math.max(0, (closedAt - row.opened_at) / 1000);
    this.#count.run({
      severity: row.severity,
      tenant: tenantLabel({ tenant: row.tenant, tenantId: row.tenant_id }),
      seconds,
    });
  }

  #guard<T>(run: () => T): T {
    try {
      return run();
    } catch (err) {
      throw historyError(this.path, err);
    }
  }
}

/** A tenant filter is a UNION of one leg per tenant index, which SQLite merges in index order instead of sorting. */
export function buildTicketQuery(query: TicketQuery): { sql: string; params: Record<string, SQLInputValue> } {
  const where: string[] = [];
  const params: Record<string, SQLInputValue> = { limit: query.limit + 1 };
  if (query.state === 'open') where.push('closed_at IS NULL');
  if (query.state === 'closed') where.push('closed_at IS NOT NULL');
  if (query.severities !== undefined) {
    where.push('severity IN (SELECT value FROM json_each($severities))');
    params['severities'] = JSON.stringify(query.severities);
  }
  if (query.ip !== undefined) {
    where.push('ip = $ip');
    params['ip'] = query.ip;
  }
  if (query.until !== undefined) {
    where.push('opened_at < $until');
    params['until'] = query.until.getTime();
  }
  if (query.since !== undefined) {
    where.push('(closed_at IS NULL OR closed_at >= $since)');
    params['since'] = query.since.getTime();
  }
  if (query.after !== undefined) {
    where.push('(opened_at, id) < ($afterOpenedAt, $afterId)');
    params['afterOpenedAt'] = query.after.openedAt.getTime();
    params['afterId'] = query.after.id;
  }
  const select = (conditions: readonly string[]): string =>
    `SELECT ${TICKET_COLUMNS} FROM tickets${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''}`;
  if (query.tenant === undefined) return { sql: `${select(where)} ${NEWEST_FIRST} LIMIT $limit`, params };
  params['tenant'] = query.tenant;
  const byName = select(['tenant = $tenant', ...where]);
  const byId = select(['tenant_id = $tenant', ...where]);
  return { sql: `${byName} UNION ${byId} ${NEWEST_FIRST} LIMIT $limit`, params };
}

function refuseNewerSchema(db: DatabaseSync): void {
  const version = readUserVersion(db);
  if (version > TICKET_SCHEMA_VERSION) {
    throw new Error(
      `was written by a newer exposure-exporter (schema ${version}, this one knows ${TICKET_SCHEMA_VERSION})`,
    );
  }
}

/** Applies the missing migrations in one transaction, re-reading the version under the write lock. */
function migrate(db: DatabaseSync): void {
  if (readUserVersion(db) === TICKET_SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    refuseNewerSchema(db);
    for (let version = readUserVersion(db); version < TICKET_SCHEMA_VERSION; version++) {
      db.exec(TICKET_MIGRATIONS[version]!);
    }
    db.exec(`PRAGMA user_version = ${TICKET_SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    rollBack(db);
    throw err;
  }
}

function readUserVersion(db: DatabaseSync): number {
  return (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
}

function rollBack(db: DatabaseSync): void {
  // SQLite may have rolled back already (it does on SQLITE_FULL, for one); the first error is the one to report.
  if (!db.isTransaction) return;
  try {
    db.exec('ROLLBACK');
  } catch {}
}

function historyError(path: string, err: unknown): ExporterError {
  if (err instanceof ExporterError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new ExporterError('HISTORY_FAILED', `history database ${path}: ${reason.split('\n')[0]}`, { cause: err });
}

function arrays(statement: StatementSync): StatementSync {
  statement.setReturnArrays(true);
  return statement;
}

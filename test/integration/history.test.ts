/**
 * The history through the built exporter, real nmap on listeners this test opens on 127.0.0.1 and the real
 * node:sqlite: tickets from first seen to closed and reopened, /history as JSON and CSV, the ticket metrics and
 * the shipped overdue alert in a real Prometheus, a database that fails and heals, and SIGKILL mid-cycle.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { renderRulesForTest } from '../support/alerting-config.ts';
import { startExporter } from '../support/exporter-process.ts';
import type { ExporterProcess } from '../support/exporter-process.ts';
import { lookup, waitForLog, waitForMoreScans } from '../support/fault-checks.ts';
import { fillDisk } from '../support/fill-disk.ts';
import { findFreePort } from '../support/free-port.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { openTcpListener } from '../support/tcp-listener.ts';
import type { TcpListener } from '../support/tcp-listener.ts';

const run = promisify(execFile);

interface TicketJson {
  id: number;
  ip: string;
  port: number;
  protocol: string;
  opened_at: string;
  closed_at: string | null;
  reopened: boolean;
  severity: string | null;
}

async function history(exporter: ExporterProcess, query = ''): Promise<{ tickets: TicketJson[]; next: string | null }> {
  const response = await fetch(`${exporter.baseUrl}/history${query}`);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { tickets: TicketJson[]; next: string | null };
}

/** Our ports' tickets only: loopback also shows the machine's own listeners. */
function ticketsOn(tickets: readonly TicketJson[], ports: readonly number[]): string[] {
  return tickets
    .filter((ticket) => ports.includes(ticket.port))
    .map((t) => `${t.port} ${t.closed_at === null ? 'open' : 'closed'}${t.reopened ? ' reopened' : ''} #${t.id}`)
    .sort();
}

/** The database as another reader sees it: what is committed, and nothing else. */
function committedTickets(path: string, ports: readonly number[]): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare('SELECT id, port, opened_at, closed_at FROM tickets ORDER BY id').all() as {
      id: number;
      port: number;
      opened_at: number;
      closed_at: number | null;
    }[];
    return rows.filter((row) => ports.includes(row.port)).map((row) => `#${row.id} ${row.port} ${row.opened_at}`);
  } finally {
    db.close();
  }
}

describe('history', () => {
  let dir = '';
  let listeners: TcpListener[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ee-history-'));
  });
  // A tmpfs a test mounted goes here, whatever failed first: a failed run must not leave it behind.
  let mounts: string[] = [];
  afterEach(async () => {
    for (const mount of mounts) await run('umount', [mount]).catch(() => run('umount', ['-l', mount]));
    mounts = [];
    await Promise.all(listeners.map((listener) => listener.close()));
    listeners = [];
    await rm(dir, { recursive: true, force: true });
  });

  function writeConfig(ports: readonly number[], extra = ''): Promise<string> {
    const path = join(dir, 'config.yml');
    return writeFile(
      path,
      `scan:
  targets: ["127.0.0.1"]
  ports: "${ports.join(',')}"
  interval: 3s
  timeout: 2s
  nmap:
    max_rtt_timeout: 100ms
    max_retries: 1
severity_overrides:
  "${ports[0]}/tcp": critical
state:
  path: ${JSON.stringify(join(dir, 'state.json'))}
${extra}`,
    ).then(() => path);
  }

  async function listen(port?: number): Promise<TcpListener> {
    const listener = await openTcpListener('127.0.0.1', port);
    listeners.push(listener);
    return listener;
  }

  async function closeListener(listener: TcpListener): Promise<void> {
    await listener.close();
    listeners = listeners.filter((other) => other !== listener);
  }

  it('opens, closes and reopens tickets, serves them as JSON and CSV, and counts them for Prometheus and the shipped alert', async () => {
    const a = await listen();
    const b = await listen();
    const ports = [a.port, b.port];
    // Numbered in the order nmap lists the ports: ascending.
    const [idA, idB] = a.port < b.port ? [1, 2] : [2, 1];
    const config = await writeConfig(ports, 'history:\n  remediation_targets: {critical: 2s}\n');
    const exporter = await startExporter([`--config.file=${config}`]);
    try {
      await waitForMoreScans(exporter, [], 'success', 'a first cycle');
      const first = await history(exporter);
      assert.deepEqual(ticketsOn(first.tickets, ports), [`${a.port} open #${idA}`, `${b.port} open #${idB}`].sort());
      const ticketA = first.tickets.find((t) => t.port === a.port)!;
      assert.equal(ticketA.severity, 'critical');
      assert.equal(ticketA.protocol, 'tcp');

      await closeListener(b);
      const closed = await exporter.waitForMetrics(
        (samples) => (lookup(samples, 'exposure_tickets_closed_total', { severity: 'low', tenant: '' }) ?? 0) === 1,
        'the closed port counted',
      );
      const openSeconds = lookup(closed, 'exposure_tickets_open_seconds_total', { severity: 'low', tenant: '' })!;
      assert.ok(openSeconds > 0 && openSeconds < 60, `${b.port} was open for ${openSeconds} s`);
      const afterClose = await history(exporter, '?state=closed');
      assert.deepEqual(ticketsOn(afterClose.tickets, ports), [`${b.port} closed #${idB}`]);

      await listen(b.port);
      await exporter.waitForMetrics(
        (samples) => (lookup(samples, 'exposure_tickets_open', { severity: 'low', tenant: '' }) ?? 0) === 1,
        'the reopened port counted open',
      );
      const reopened = await history(exporter, `?ip=127.0.0.1&limit=1`);
      assert.equal(reopened.tickets.length, 1, 'one per page');
      assert.notEqual(reopened.next, null, 'more than one ticket: a next page');
      const all = await history(exporter);
      assert.deepEqual(
        ticketsOn(all.tickets, ports),
        [`${a.port} open #${idA}`, `${b.port} closed #${idB}`, `${b.port} open reopened #3`].sort(),
      );

      const csv = await (await fetch(`${exporter.baseUrl}/history?format=csv&state=closed`)).text();
      const rows = csv.trimEnd().split('\r\n');
      assert.match(rows[0]!, /^id,ip,port,protocol,opened_at,closed_at,/);
      assert.ok(
        rows.slice(1).some((row) => row.startsWith(`${idB},127.0.0.1,${b.port},tcp,`)),
        csv,
      );

      const overdue = await exporter.waitForMetrics(
        (samples) => lookup(samples, 'exposure_tickets_overdue', { severity: 'critical', tenant: '' }) === 1,
        `the critical ticket on ${a.port} overdue after its 2s target`,
      );
      assert.equal(lookup(overdue, 'exposure_remediation_target_seconds', { severity: 'critical' }), 2);
      assert.equal(lookup(overdue, 'exposure_history_last_write_successful', {}), 1);

      const rules = join(dir, 'exposure-rules.yml');
      await writeFile(rules, await renderRulesForTest({ forDuration: '2s' }));
      const prometheus = await startPrometheus({
        targets: { 'exposure-exporter': new URL(exporter.baseUrl).host },
        ruleFiles: [rules],
        scrapeInterval: '1s',
        evaluationInterval: '1s',
      });
      try {
        const firing = await prometheus.waitFor(
          'ALERTS{alertname="ExposureRemediationOverdue", alertstate="firing"}',
          (result) => result.result.length > 0,
          'ExposureRemediationOverdue firing in Prometheus with the shipped rules',
          30_000,
        );
        assert.equal(firing.result.length, 1, JSON.stringify(firing.result));
        const mttr = await prometheus.waitFor(
          'sum by (severity) (exposure_tickets_open_seconds_total) / sum by (severity) (exposure_tickets_closed_total)',
          (result) => result.result.length === 1,
          'mean time to remediate from the counters',
        );
        assert.equal(mttr.result[0]!.metric['severity'], 'low');
        assert.equal(Number(mttr.result[0]!.value![1]), openSeconds);
      } finally {
        await prometheus.stop();
      }
    } finally {
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }
    assert.deepEqual(
      committedTickets(join(dir, 'history.db'), ports).map((row) => row.split(' ').slice(0, 2).join(' ')),
      [`#1 ${idA === 1 ? a.port : b.port}`, `#2 ${idA === 2 ? a.port : b.port}`, `#3 ${b.port}`],
      'history.db beside the state file holds them',
    );
  });

  it('a locked, corrupt or full database stops neither scans nor serving, and the next good write reconciles what was missed', async () => {
    const disk = join(dir, 'disk');
    await mkdir(disk);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk]);
    mounts.push(disk);
    const database = join(disk, 'history.db');
    // Not a database: the exporter cannot open it at start.
    await writeFile(database, 'this is not a database\n');
    const kept = await listen();
    const closing = await listen();
    const opening = await findFreePort();
    const ports = [kept.port, closing.port, opening];
    const config = await writeConfig(ports, `history:\n  path: ${JSON.stringify(database)}\n`);
    const exporter = await startExporter([`--config.file=${config}`]);
    try {
      const corrupt = await waitForLog(
        exporter,
        'cannot write history; scanning and serving go on',
        'the corrupt database',
      );
      assert.equal(corrupt['reason'], `history database ${database}: file is not a database`);
      const failing = await exporter.waitForMetrics(
        (samples) =>
          lookup(samples, 'exposure_history_last_write_successful', {}) === 0 &&
          lookup(samples, 'exposure_scan_success', {}) !== undefined,
        'the history health at 0 after a cycle',
      );
      assert.equal(lookup(failing, 'exposure_scan_success', {}), 1, 'the scans go on');
      const unavailable = await fetch(`${exporter.baseUrl}/history`);
      assert.equal(unavailable.status, 503);
      assert.equal(((await unavailable.json()) as { error: { code: string } }).error.code, 'HISTORY_FAILED');
      assert.equal((await fetch(`${exporter.baseUrl}/report`)).status, 200, '/report is served');

      // Full: the corrupt file goes, but the disk is full, so the new database cannot be written.
      const filler = join(disk, 'filler');
      await fillDisk(filler);
      await rm(database);
      let logged = exporter.logs().length;
      const full = await waitForLog(exporter, 'cannot write history; scanning and serving go on', 'the full disk', {
        from: logged,
      });
      assert.match(String(full['reason']), new RegExp(`^history database ${database}: database or disk is full$`));
      assert.equal(lookup(await exporter.scrape(), 'exposure_scan_success', {}), 1, 'the scans go on');

      await rm(filler);
      await exporter.waitForMetrics(
        (samples) => lookup(samples, 'exposure_history_last_write_successful', {}) === 1,
        'a database created once the disk has room',
      );
      const before = await history(exporter);
      const keptTicket = before.tickets.find((t) => t.port === kept.port)!;
      const report = (await (await fetch(`${exporter.baseUrl}/report`)).json()) as {
        hosts: { ports: { port: number; first_seen: string }[] }[];
      };
      const keptFirstSeen = report.hosts.flatMap((h) => h.ports).find((p) => p.port === kept.port)!.first_seen;
      assert.equal(keptTicket.opened_at, keptFirstSeen, 'the cycles missed are reconciled: opened when first seen');

      // Locked: another process holds the write lock while one port closes and another opens.
      const holder = new DatabaseSync(database);
      holder.exec('BEGIN IMMEDIATE');
      await closeListener(closing);
      await listen(opening);
      logged = exporter.logs().length;
      const locked = await waitForLog(exporter, 'cannot write history; scanning and serving go on', 'the lock', {
        from: logged,
      });
      assert.equal(locked['reason'], `history database ${database}: database is locked`);
      await exporter.waitForMetrics(
        (samples) => lookup(samples, 'exposure_port_open', { port: String(opening) }) !== undefined,
        'the scan serving the opened port while the database is locked',
      );
      holder.exec('ROLLBACK');
      holder.close();

      await exporter.waitForMetrics(
        (samples) => lookup(samples, 'exposure_history_last_write_successful', {}) === 1,
        'the history written again',
      );
      const after = await history(exporter);
      assert.deepEqual(
        ticketsOn(after.tickets, ports),
        [
          ...[`${closing.port} closed #${before.tickets.find((t) => t.port === closing.port)!.id}`],
          `${kept.port} open #${keptTicket.id}`,
          `${opening} open #${Math.max(...before.tickets.map((t) => t.id)) + 1}`,
        ].sort(),
        'the exposure open before and after the gap keeps its ticket; the rest is reconciled',
      );
    } finally {
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }
  });

  it('SIGKILL mid-cycle loses no committed ticket', async () => {
    // Enough listeners that each cycle writes tickets, some closing and opening each round.
    const stable = await Promise.all(Array.from({ length: 20 }, () => listen()));
    const flapping = await Promise.all(Array.from({ length: 20 }, () => listen()));
    const ports = [...stable, ...flapping].map((listener) => listener.port);
    const config = await writeConfig(ports);
    const database = join(dir, 'history.db');
    let committed: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      const exporter = await startExporter([`--config.file=${config}`]);
      await waitForMoreScans(exporter, [], 'success', `a cycle in round ${round}`);
      // Even rounds close a port, odd ones open it again: each round has tickets to close or open.
      const port = flapping[round - (round % 2)]!.port;
      if (round % 2 === 0) await closeListener(flapping[round]!);
      else await listen(port);
      const seen = committedTickets(database, ports);
      for (const ticket of committed) assert.ok(seen.includes(ticket), `round ${round}: ${ticket} survived the kill`);
      committed = seen;
      // Killed at a different point of the next cycle each round: it runs every 3 s.
      await new Promise((resolve) => setTimeout(resolve, 3_000 + 700 * round));
      const before = committedTickets(database, ports);
      await exporter.stop('SIGKILL', 10_000);
      const after = committedTickets(database, ports);
      for (const ticket of before) assert.ok(after.includes(ticket), `round ${round}: ${ticket} lost to SIGKILL`);
      committed = after;
    }
    // A last restart reconciles: every port open now has exactly one open ticket, the flapped ones reopened.
    const exporter = await startExporter([`--config.file=${config}`]);
    try {
      await waitForMoreScans(exporter, [], 'success', 'the cycles after the last kill', 2);
      const open = (await history(exporter, '?state=open&limit=1000')).tickets.filter((t) => ports.includes(t.port));
      assert.deepEqual(open.map((t) => t.port).sort(), [...ports].sort());
      assert.deepEqual(
        open
          .filter((t) => t.reopened)
          .map((t) => t.port)
          .sort(),
        [flapping[0]!.port, flapping[2]!.port].sort(),
      );
    } finally {
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }
    const db = new DatabaseSync(database, { readOnly: true });
    try {
      assert.deepEqual(
        db
          .prepare('PRAGMA integrity_check')
          .all()
          .map((row) => row['integrity_check']),
        ['ok'],
      );
    } finally {
      db.close();
    }
    assert.ok(committed.length >= 40, `${committed.length} tickets committed over the rounds`);
  });
});

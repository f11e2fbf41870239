/**
 * The load, soak and history benches still run: each one's --smoke mode (load and soak against the built exporter,
 * dist/main.js) exits 0 and prints its tables. Only the shape is asserted (headers, row labels), never a timing:
 * tests do not time things. They run at once to keep the wall time down; none judges a timing in a smoke run, so
 * sharing the cores is fine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

const LOAD = new URL('../../bench/load.ts', import.meta.url).pathname;
const SOAK = new URL('../../bench/soak.ts', import.meta.url).pathname;
const HISTORY = new URL('../../bench/history.ts', import.meta.url).pathname;
const RUN_TIMEOUT_MS = 100_000;

interface BenchRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a bench script in its own process group, so that at the deadline the exporters and fake nmaps it started
 * are killed with it rather than left running.
 */
function runBench(script: string, args: readonly string[]): Promise<BenchRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(
        new Error(
          `${script} ${args.join(' ')} did not finish within ${RUN_TIMEOUT_MS / 1000} s:\n${stdout}\n${stderr}`,
        ),
      );
    }, RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The cells of each printed table line, split where the table pads columns (two spaces or more). */
function tableLines(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(/ {2,}/));
}

function findRow(lines: readonly string[][], first: string): string[] {
  const row = lines.find((cells) => cells[0] === first);
  assert.ok(row, `no line starting with ${JSON.stringify(first)}`);
  return row;
}

describe('bench smoke runs', { concurrency: true, timeout: 2 * RUN_TIMEOUT_MS }, () => {
  it('bench/load.ts --smoke loads every cycle state, path and auth mode over TLS, prints both tables and exits 0', async () => {
    const run = await runBench(LOAD, ['--smoke']);
    assert.equal(run.code, 0, `load --smoke failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(
      run.stdout,
      /^load: autocannon, 2 connections for 1 s per row \(4 requests for a wrong password\), against node dist\/main\.js over TLS; basic auth with a bcryptjs hash of cost 10/m,
    );
    assert.doesNotMatch(run.stdout, /FAIL/);
    const lines = tableLines(run.stdout);
    const header = findRow(lines, 'cycle');
    assert.deepEqual(header, [
      'cycle',
      'path',
      'auth',
      'requests',
      'errors',
      'non-2xx',
      '401',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'CPU ms/req',
    ]);
    const labels = lines
      .filter((cells) => cells.length === header.length && cells !== header)
      .map((cells) => cells.slice(0, 3).join(' '));
    const expected = ['running', 'hung'].flatMap((cycle) =>
      ['/metrics', '/report'].flatMap((path) =>
        ['cached', 'none', 'wrong password'].map((auth) => `${cycle} ${path} ${auth}`),
      ),
    );
    assert.deepEqual(labels, expected);
    assert.ok(
      lines.some(
        (cells) =>
          cells.join(' ') ===
          'cycle path cached/none p50 cached/none p99 cached/none CPU wrong/cached CPU wrong/cached req/s',
      ),
    );
  });

  it('bench/soak.ts --smoke counts 50 cycles from /metrics, prints the RSS table and exits 0', async () => {
    const run = await runBench(SOAK, ['--smoke']);
    assert.equal(run.code, 0, `soak --smoke failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^soak: 50 cycles of node dist\/main\.js, scan\.interval 250ms, scan\.timeout 200ms/m);
    const lines = tableLines(run.stdout);
    assert.deepEqual(findRow(lines, 'cycle'), [
      'cycle',
      'RSS (MiB)',
      'RSS/start',
      'V8 heap (MiB)',
      'heap used (MiB)',
      'peak RSS (MiB)',
      'failed cycles',
      'elapsed (s)',
    ]);
    const counts = lines
      .filter((cells) => cells.length === 8 && /^\d+$/.test(cells[0] ?? ''))
      .map((cells) => Number(cells[0]));
    assert.equal(counts.length, 2, 'one row after the first 20 cycles and one at the end');
    assert.ok(counts[0]! >= 20 && counts[1]! >= 50, `rows at ${counts.join(', ')} cycles`);
    assert.match(run.stdout, /^end\/start: RSS \d/m);
    assert.match(run.stdout, /^pass: RSS grew [\d.]+% from start to the end, within 10%$/m);
  });

  it('bench/history.ts --smoke simulates 30 days of 500 hosts, prints its three tables and exits 0', async () => {
    const run = await runBench(HISTORY, ['--smoke']);
    assert.equal(run.code, 0, `history --smoke failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^history: 500 hosts, 10 tenants, 30 days of hourly cycles \(720\), /m);
    const lines = tableLines(run.stdout);
    assert.deepEqual(findRow(lines, 'database'), [
      'database',
      'day',
      'tickets',
      'open',
      'closed',
      'reopened',
      'history.db (MiB)',
      '-wal (MiB)',
      'bytes/ticket',
    ]);
    const [startDb, endDb] = ['start', 'end'].map((label) => lines.find((c) => c[0] === label && c.length === 9)!);
    const count = (cell: string | undefined): number => Number(cell?.replaceAll(',', ''));
    assert.ok(count(endDb?.[2]) > count(startDb?.[2]), 'the table grows over the 30 days');
    assert.equal(endDb?.[3], startDb?.[3], 'as many exposures open at the end as at the start');
    assert.deepEqual(findRow(lines, 'cycles'), [
      'cycles',
      'tickets',
      'snapshot (ms)',
      'snapshot CPU (ms)',
      'state file (ms)',
      'history (ms)',
      'history CPU (ms)',
      'open tickets read (ms)',
      'history/snapshot',
      'history/(snapshot+state)',
    ]);
    assert.equal(lines.filter((cells) => cells.length === 10 && ['start', 'end'].includes(cells[0]!)).length, 2);
    assert.deepEqual(findRow(lines, 'query'), [
      'query',
      'rows at start',
      'rows at end',
      'start (ms)',
      'end (ms)',
      'end/start',
    ]);
    const queries = lines.filter((cells) => cells.length === 6 && cells[0] !== 'query');
    assert.deepEqual(
      queries.map((cells) => [cells[0], cells[2]]),
      [
        ['first page', '100'],
        ['second page (after)', '100'],
        ['state=closed, first page', '100'],
        ['GET /history?tenant=tenant-7', '100'],
      ],
    );
    assert.match(run.stdout, /^end\/start: history \d/m);
    assert.equal(run.stdout.match(/^goal: .+: [\d.]+( ms)?, (met|NOT met)$/gm)?.length, 3);
  });
});

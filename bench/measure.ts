/**
 * What the bench scripts need to measure and print: a forced garbage collector, medians, another process's
 * resident set and CPU time from /proc, and figures with their units. Heap figures are taken right after a full
 * collection, so they count what is still reachable (retained) rather than whatever garbage the collector has
 * not reached yet.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const RESPAWNED = 'EXPOSURE_BENCH_RESPAWNED';
const USER_HZ = 100;
/** utime and stime, fields 14 and 15 of /proc/PID/stat, counted from the state field (3) that follows the name. */
const UTIME_FIELD = 14 - 3;
const STIME_FIELD = 15 - 3;

/**
 * `global.gc` when node runs with --expose-gc. Otherwise runs the calling script again in a child node that has it
 * and exits with the child's status, so `npx node bench/x.ts` needs no flags; the environment variable stops a
 * loop should the flag be refused.
 */
export function requireGc(scriptUrl: string): () => void {
  const gc = globalThis.gc;
  if (gc !== undefined) return () => gc();
  if (process.env[RESPAWNED] === '1') throw new Error('node did not expose gc() despite --expose-gc');
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, '--expose-gc', fileURLToPath(scriptUrl), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, [RESPAWNED]: '1' } },
  );
  process.exit(child.status ?? 1);
}

/** heapUsed after a full collection, in bytes. */
export function measureRetainedHeap(gc: () => void): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * CPU time of the whole process (every thread, so the collector's helpers count), in milliseconds. Beside wall
 * time because the bench machine may be shared: another process taking a core stretches wall time, not this.
 */
export function readCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * The resident set of another process (VmRSS in /proc/PID/status), in bytes: what the kernel holds in RAM for
 * it right now, the figure an operator's `ps` or a container's memory limit sees.
 */
export async function readProcessRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(match[1]) * 1024;
}

/**
 * CPU time another process has used so far (utime + stime of /proc/PID/stat, all its threads), in milliseconds.
 * The kernel counts it in USER_HZ ticks, which Linux fixes at 100 per second for every program that reads them.
 */
export async function readProcessCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name in parentheses may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[UTIME_FIELD]) + Number(fields[STIME_FIELD]);
  if (!Number.isFinite(ticks)) throw new Error(`/proc/${pid}/stat has no utime and stime: ${stat}`);
  return ticks * (1000 / USER_HZ);
}

export function findMedian(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle];
  if (upper === undefined) throw new Error('median of no values');
  return sorted.length % 2 === 1 ? upper : (sorted[middle - 1]! + upper) / 2;
}

export function describeMachine(): string {
  return `node ${process.version}, ${availableParallelism()} CPUs`;
}

export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(3) : ms.toFixed(1);
}

export function formatMiB(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(2);
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Ratios span several orders of magnitude here (a 64 KiB buffer against a whole document), so 3 significant digits. */
export function formatRatio(numerator: number, denominator: number): string {
  if (denominator === 0) return 'n/a';
  return (numerator / denominator).toPrecision(3);
}

/** Prints rows as left-aligned first column and right-aligned figures, so a terminal shows a table. */
export function printTable(rows: readonly (readonly string[])[]): void {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, cell.length);
    });
  }
  for (const row of rows) {
    const cells = row.map((cell, column) =>
      column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
    );
    console.log(cells.join('  ').trimEnd());
  }
}

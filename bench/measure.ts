/**
 * What both bench scripts need to measure and print: a forced garbage collector, medians, and figures with
 * their units. Heap figures are taken right after a full collection, so they count what is still reachable
 * (retained) rather than whatever garbage the collector has not reached yet.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const RESPAWNED = 'EXPOSURE_BENCH_RESPAWNED';

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

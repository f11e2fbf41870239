/**
 * Preloaded into the exporter by bench/soak.ts (`node --expose-gc --import bench/gc-on-signal.mjs dist/main.js`):
 * on SIGUSR2, runs a full garbage collection and then appends one JSON line to the file named by
 * EXPOSURE_BENCH_GC_REPORT: `heapUsed` (what is still reachable) and `heapPhysical` (the pages V8 holds for its
 * heap, used or not), in bytes. The soak reads VmRSS once that line is there, so every figure it compares
 * is taken right after a full collection: V8 collects when it sees fit, and between two major collections the
 * resident set of an idle-looking exporter drifts up by a quarter and falls back, which hides or fakes a leak.
 *
 * The exporter itself never handles SIGUSR2; nothing else changes in the process it runs. Plain JavaScript, not
 * TypeScript: preloading a .ts file would load Node's type stripper into the exporter, about 16 MiB of RSS that
 * the shipped process does not have.
 */
import { appendFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

const reportPath = process.env['EXPOSURE_BENCH_GC_REPORT'];
const gc = globalThis.gc;
if (reportPath === undefined || gc === undefined) {
  throw new Error('bench/gc-on-signal.mjs needs node --expose-gc and EXPOSURE_BENCH_GC_REPORT naming its report file');
}

process.on('SIGUSR2', () => {
  gc();
  const heap = getHeapStatistics();
  appendFileSync(
    reportPath,
    `${JSON.stringify({ heapUsed: heap.used_heap_size, heapPhysical: heap.total_physical_size })}\n`,
  );
});

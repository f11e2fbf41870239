/**
 * What basic auth costs per scrape: the milliseconds one bcrypt check takes (bcryptjs, which the exporter
 * uses) at costs 10, 12 and 14, and at cost 18 extrapolated from 14 (each step of cost doubles the work, so
 * measuring 18 itself would take half a minute), next to what a cached check costs: the SHA-256 of the
 * credentials and a Map lookup. A cache miss happens once per distinct (user, password, hash) until the
 * cache drops it, and on every wrong password.
 *
 * CPU time is printed next to wall time, because a shared machine stretches wall time but not CPU time.
 *
 * Run: npx node bench/bcrypt-cost.ts (about a minute on an idle 2-core machine)
 */
import bcrypt from 'bcryptjs';
import { BasicAuthChecker } from '../src/web/basic-auth.ts';
import { describeMachine, findMedian, formatMs, printTable, readCpuMs } from './measure.ts';

const MEASURED_COSTS = [10, 12, 14] as const;
const EXTRAPOLATED_COST = 18;
const RUNS = 3;
const CACHED_CHECKS = 100_000;
const PASSWORD = 'correct horse battery staple';

async function timeCompare(hash: string): Promise<{ wallMs: number; cpuMs: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const start = performance.now();
    const cpuStart = readCpuMs();
    if (!(await bcrypt.compare(PASSWORD, hash))) throw new Error('the password must match its own hash');
    wall.push(performance.now() - start);
    cpu.push(readCpuMs() - cpuStart);
  }
  return { wallMs: findMedian(wall), cpuMs: findMedian(cpu) };
}

async function timeCachedCheck(hash: string): Promise<number> {
  const checker = new BasicAuthChecker({ users: new Map([['prometheus', hash]]) });
  const credentials = { user: 'prometheus', password: PASSWORD };
  if (!(await checker.check(credentials))) throw new Error('the first check must pass');
  const start = performance.now();
  for (let check = 0; check < CACHED_CHECKS; check += 1) await checker.check(credentials);
  return (performance.now() - start) / CACHED_CHECKS;
}

const rows: string[][] = [['bcrypt cost', 'wall ms per check', 'CPU ms per check', 'checks per CPU-second']];
let atHighest = { wallMs: 0, cpuMs: 0 };
let cachedMs = 0;
for (const cost of MEASURED_COSTS) {
  const hash = await bcrypt.hash(PASSWORD, cost);
  const times = await timeCompare(hash);
  atHighest = times;
  rows.push([String(cost), formatMs(times.wallMs), formatMs(times.cpuMs), (1000 / times.cpuMs).toFixed(2)]);
  if (cost === MEASURED_COSTS[0]) cachedMs = await timeCachedCheck(hash);
}
const factor = 2 ** (EXTRAPOLATED_COST - MEASURED_COSTS[MEASURED_COSTS.length - 1]!);
rows.push([
  `${EXTRAPOLATED_COST} (extrapolated)`,
  formatMs(atHighest.wallMs * factor),
  formatMs(atHighest.cpuMs * factor),
  (1000 / (atHighest.cpuMs * factor)).toFixed(3),
]);
rows.push(['any, cached', formatMs(cachedMs), '', Math.round(1000 / cachedMs).toLocaleString('en-US')]);

console.log(
  `bcrypt-cost: bcryptjs compare, medians of ${RUNS} runs; cached = wall mean of ${CACHED_CHECKS.toLocaleString('en-US')} checks (${describeMachine()})`,
);
printTable(rows);

/**
 * What every fault test checks: which exposures /metrics serves (with their owners and first-seen times), what
 * the report and the log say about the last cycle, and that a restart on the same state file brings all of it
 * back.
 */
import assert from 'node:assert/strict';
import { startExporter } from './exporter-process.ts';
import type { ExporterProcess } from './exporter-process.ts';
import { samplesNamed } from './exposition.ts';
import type { Sample } from './exposition.ts';

/** `ip port/protocol vm_name user tenant` of every nonstandard open port, sorted; without an inventory the last three are empty. */
export function exposuresIn(samples: readonly Sample[]): string[] {
  return samplesNamed(samples, 'exposure_port_open')
    .map(
      (s) =>
        `${s.labels['ip']} ${s.labels['port']}/${s.labels['protocol']} ${s.labels['vm_name']} ${s.labels['user']} ${s.labels['tenant']}`,
    )
    .sort();
}

/** First-seen time (seconds) by `ip port/protocol`. */
export function firstSeenIn(samples: readonly Sample[]): Record<string, number> {
  return Object.fromEntries(
    samplesNamed(samples, 'exposure_port_first_seen_timestamp_seconds')
      .map((s) => [`${s.labels['ip']} ${s.labels['port']}/${s.labels['protocol']}`, s.value] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Like sampleValue, but undefined instead of a throw, for wait predicates polled before a metric exists. */
export function lookup(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  return found.length === 1 ? found[0]!.value : undefined;
}

export function scansTotal(samples: readonly Sample[], result: 'success' | 'failure'): number {
  return lookup(samples, 'exposure_scans_total', { result }) ?? 0;
}

/** Waits for `count` more cycles with this result than `samples` counted. */
export function waitForMoreScans(
  exporter: ExporterProcess,
  samples: readonly Sample[],
  result: 'success' | 'failure',
  what: string,
  count = 1,
): Promise<Sample[]> {
  const before = scansTotal(samples, result);
  return exporter.waitForMetrics((now) => scansTotal(now, result) >= before + count, what, 20_000);
}

export interface LastScan {
  readonly success: boolean;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** The report's verdict on the last cycle: whether it succeeded and, if not, its error. */
export async function readLastScan(exporter: ExporterProcess): Promise<LastScan> {
  const { scan } = (await (await fetch(`${exporter.baseUrl}/report`)).json()) as { scan: LastScan };
  return { success: scan.success, error: scan.error };
}

/** The log lines with this message, optionally from index `from` on. */
export function logsWith(exporter: ExporterProcess, msg: string, from = 0): Record<string, unknown>[] {
  return exporter
    .logs()
    .slice(from)
    .filter((entry) => entry['msg'] === msg);
}

export async function waitForLog(
  exporter: ExporterProcess,
  msg: string,
  what: string,
  options: { from?: number; timeoutMs?: number } = {},
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const found = logsWith(exporter, msg, options.from);
    if (found.length > 0) return found[0]!;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the log line "${msg}" (${what})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts the exporter again on the same config and state file and checks that it serves, before any cycle of
 * its own has finished, exactly the exposures and first-seen times it is given. The caller makes sure no cycle
 * can finish (a hanging nmap), so what is served can only come from the state file.
 */
export async function assertRestartRestores(
  args: readonly string[],
  expected: { readonly exposures: readonly string[]; readonly firstSeen: Readonly<Record<string, number>> },
): Promise<void> {
  const restarted = await startExporter(args);
  try {
    assert.equal((await fetch(`${restarted.baseUrl}/-/ready`)).status, 200, 'ready at once from the state file');
    const samples = await restarted.scrape();
    assert.equal(lookup(samples, 'exposure_scans_total', { result: 'success' }), 0, 'no cycle of its own has finished');
    assert.deepEqual(exposuresIn(samples), expected.exposures);
    assert.deepEqual(firstSeenIn(samples), expected.firstSeen);
    assert.equal(logsWith(restarted, 'restored state').length, 1, 'the log says the state was restored');
  } finally {
    assert.equal(await restarted.stop('SIGTERM', 10_000), 0);
  }
}

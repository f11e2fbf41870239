/** Reading /report the way the exposure tests read it: waiting for a cycle, and its exposures as text. */
import type { ExporterProcess } from './exporter-process.ts';
import { pollUntil } from './poll.ts';

/** The parts of a report's hosts these helpers read; each test's own Report type extends it. */
export interface ReportedHosts {
  readonly hosts: readonly { ip: string; ports: readonly { port: number; protocol: string; class: string }[] }[];
}

/** Each nonstandard open port as `ip port/protocol`, sorted. */
export function listExposures(report: ReportedHosts): string[] {
  return report.hosts
    .flatMap((host) =>
      host.ports
        .filter((port) => port.class === 'nonstandard')
        .map((port) => `${host.ip} ${port.port}/${port.protocol}`),
    )
    .sort();
}

/** Polls /report until the predicate holds on it; a timeout names what was awaited and the last scan block. */
export function waitForReport<T extends { scan: unknown }>(
  exporter: ExporterProcess,
  what: string,
  predicate: (report: T) => boolean,
  timing: { timeoutMs: number; intervalMs: number },
): Promise<T> {
  const read = async (): Promise<T> => (await (await fetch(`${exporter.baseUrl}/report`)).json()) as T;
  return pollUntil(read, predicate, { what, ...timing, describe: (report) => JSON.stringify(report.scan) });
}

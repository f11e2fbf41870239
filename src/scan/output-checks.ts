/**
 * nmap's output checked like any other input, host by host while it streams: an address must be an IP address
 * of the run's family inside what nmap was handed, text fields must have been valid UTF-8, and a run may name
 * no more hosts than it was handed nor more ports per host than it was asked to scan.
 */
import { ExporterError } from '../errors.ts';
import { formatAddress, parseAddress } from '../net/addresses.ts';
import type { IpFamily } from '../net/addresses.ts';
import { quoteSnippet } from './nmap-elements.ts';
import type { NmapHost } from './nmap-elements.ts';
import type { RejectedOutput } from './types.ts';

export interface OutputLimits {
  readonly family: IpFamily;
  /** The addresses handed to nmap for this run. */
  readonly hosts: number;
  /** The ports it was asked to scan on each. */
  readonly portsPerHost: number;
  readonly isTarget: (ip: string) => boolean;
}

/** Dropped addresses the log quotes, at most. */
const EXAMPLES = 3;
/** What Node's UTF-8 decoder puts where the bytes were not UTF-8. */
const REPLACEMENT = '\uFFFD';

export class OutputChecks {
  readonly #limits: OutputLimits;
  #hostsSeen = 0;
  #notAnAddress = 0;
  #outsideTargets = 0;
  #invalidText = 0;
  readonly #examples: string[] = [];

  constructor(limits: OutputLimits) {
    this.#limits = limits;
  }

  /**
   * The host's canonical address, or undefined when the host is dropped. Throws NMAP_OUTPUT_INVALID when the
   * run has named more hosts than it was handed, or the host more ports than were scanned: the run is stopped
   * before its output can grow the exporter's memory.
   */
  admitHost(host: NmapHost): string | undefined {
    this.#hostsSeen += 1;
    if (this.#hostsSeen > this.#limits.hosts) {
      throw new ExporterError(
        'NMAP_OUTPUT_INVALID',
        `nmap's output names more hosts than the ${this.#limits.hosts} it was handed`,
      );
    }
    const address = parseAddress(host.ip);
    if (!address || address.family !== this.#limits.family) {
      this.#notAnAddress += 1;
      return this.#drop(host.ip);
    }
    const ip = formatAddress(address.family, address.value);
    if (!this.#limits.isTarget(ip)) {
      this.#outsideTargets += 1;
      return this.#drop(ip);
    }
    if (host.ports.length > this.#limits.portsPerHost) {
      throw new ExporterError(
        'NMAP_OUTPUT_INVALID',
        `nmap's output lists ${host.ports.length} ports for ${ip}, more than the ${this.#limits.portsPerHost} it was asked to scan`,
      );
    }
    return ip;
  }

  /** The text as it was, or '' when nmap's bytes were not valid UTF-8: such text never reaches a label or the page. */
  cleanText(text: string): string {
    if (!text.includes(REPLACEMENT)) return text;
    this.#invalidText += 1;
    return '';
  }

  result(): RejectedOutput {
    return {
      notAnAddress: this.#notAnAddress,
      outsideTargets: this.#outsideTargets,
      invalidText: this.#invalidText,
      examples: [...this.#examples],
    };
  }

  #drop(ip: string): undefined {
    if (this.#examples.length < EXAMPLES) this.#examples.push(quoteSnippet(ip));
    return undefined;
  }
}

export const NOTHING_REJECTED: RejectedOutput = { notAnAddress: 0, outsideTargets: 0, invalidText: 0, examples: [] };

/** Two runs' rejections as one (the families of a scan, the passes of a cycle). */
export function addRejections(a: RejectedOutput, b: RejectedOutput): RejectedOutput {
  return {
    notAnAddress: a.notAnAddress + b.notAnAddress,
    outsideTargets: a.outsideTargets + b.outsideTargets,
    invalidText: a.invalidText + b.invalidText,
    examples: [...a.examples, ...b.examples].slice(0, EXAMPLES),
  };
}

export function countRejections(rejected: RejectedOutput): number {
  return rejected.notAnAddress + rejected.outsideTargets + rejected.invalidText;
}

// Ports as text: nmap `-p` lists ("1-1024,3306") and `22/tcp` keys. A list may hold only digits, commas and
// dashes, so a port spec can never smuggle an nmap flag or a protocol switch into the command line.

export type Protocol = 'tcp' | 'udp' | 'sctp';

export type PortSpecParse = { ok: true; ports: readonly PortInterval[] } | { ok: false; reason: string };

/** Inclusive at both ends. */
export interface PortInterval {
  readonly first: number;
  readonly last: number;
}

const MAX_PORT = 65535;
const ITEM = /^(\d{1,5})(?:-(\d{1,5}))?$/;
const PORT_KEY = /^(\d{1,5})\/(tcp|udp|sctp)$/;

export function portKey(port: number, protocol: Protocol): string {
  return `${port}/${protocol}`;
}

/** Undefined when the text is not a port from 1 to 65535 and a protocol. */
export function parsePortKey(text: string): string | undefined {
  const match = PORT_KEY.exec(text);
  const port = Number(match?.[1]);
  if (!match || port < 1 || port > MAX_PORT) return undefined;
  return portKey(port, match[2] as Protocol);
}

export function parsePortSpec(text: string): PortSpecParse {
  if (text === '') return { ok: false, reason: 'is empty' };
  if (text.startsWith('-')) return { ok: false, reason: 'must not start with "-"' };
  const intervals: PortInterval[] = [];
  for (const item of text.split(',')) {
    const match = ITEM.exec(item);
    // Items are quoted as JSON so a newline or NUL in the spec cannot split the message or the log line.
    if (!match)
      return { ok: false, reason: `is not a valid port list: ${JSON.stringify(item)} is not a port or a range` };
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (const port of [first, last]) {
      if (port < 1 || port > MAX_PORT) {
        return { ok: false, reason: `is not a valid port list: ${port} is outside 1-${MAX_PORT}` };
      }
    }
    if (first > last)
      return { ok: false, reason: `is not a valid port list: ${JSON.stringify(item)} starts after it ends` };
    intervals.push({ first, last });
  }
  return { ok: true, ports: mergePortIntervals(intervals) };
}

export function mergePortIntervals(intervals: readonly PortInterval[]): PortInterval[] {
  const sorted = [...intervals].sort((a, b) => a.first - b.first);
  const merged: PortInterval[] = [];
  for (const interval of sorted) {
    const previous = merged.at(-1);
    if (previous && interval.first <= previous.last + 1) {
      merged[merged.length - 1] = { first: previous.first, last: Math.max(previous.last, interval.last) };
    } else {
      merged.push(interval);
    }
  }
  return merged;
}

export function renderPortSpec(intervals: readonly PortInterval[]): string {
  return intervals.map((i) => (i.first === i.last ? `${i.first}` : `${i.first}-${i.last}`)).join(',');
}

export function countPorts(intervals: readonly PortInterval[]): number {
  return intervals.reduce((sum, i) => sum + i.last - i.first + 1, 0);
}

export const ALL_PORTS: readonly PortInterval[] = [{ first: 1, last: MAX_PORT }];

/** How many ports a valid port list names; 0 for one that does not parse. */
export function countPortSpec(text: string): number {
  const parsed = parsePortSpec(text);
  return parsed.ok ? countPorts(parsed.ports) : 0;
}

/**
 * The last snapshot on disk, so a restart neither empties /metrics nor resets first-seen times. Written
 * atomically (temp file, fsync, rename): a crash mid-write leaves the previous file whole.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ExporterError } from '../errors.ts';
import type { AddressOwner } from './inventory.ts';
import type { PortRef, Snapshot, SnapshotHost, SnapshotPort } from './snapshot.ts';
import { SEVERITIES } from './severity.ts';

const SCHEMA_VERSION = 1;

export interface StateFile {
  readonly path: string;
}

export function renderState(snapshot: Snapshot, savedAt: Date): string {
  return `${JSON.stringify({ schema_version: SCHEMA_VERSION, saved_at: savedAt.toISOString(), snapshot })}\n`;
}

/** Writes the state; the caller decides what a failure means (the cycle still counts as scanned). */
export async function saveState(file: StateFile, snapshot: Snapshot, savedAt: Date): Promise<void> {
  const temporary = `${file.path}.tmp-${process.pid}`;
  try {
    await mkdir(dirname(file.path), { recursive: true });
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(renderState(snapshot, savedAt));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file.path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new ExporterError('STATE_WRITE_FAILED', `cannot write the state file ${file.path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * The saved snapshot, or undefined when there is none yet. A file that cannot be read as state is moved
 * aside (never overwritten, so nothing an operator may want is lost) and reported as STATE_INVALID.
 */
export async function loadState(file: StateFile, now: Date): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file.path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ExporterError('STATE_INVALID', `cannot read the state file ${file.path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseState(text);
  } catch (err) {
    const aside = `${file.path}.invalid-${now.toISOString().replace(/[:.]/g, '')}`;
    await rename(file.path, aside);
    throw new ExporterError('STATE_INVALID', `${(err as Error).message}; moved it to ${aside}`, { cause: err });
  }
}

export function parseState(text: string): Snapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('the state file is not JSON');
  }
  const root = record(raw, 'state');
  if (root['schema_version'] !== SCHEMA_VERSION) {
    throw new Error(`the state file has schema_version ${JSON.stringify(root['schema_version'])}, expected ${SCHEMA_VERSION}`);
  }
  return readSnapshot(record(root['snapshot'], 'snapshot'));
}

function readSnapshot(raw: Record<string, unknown>): Snapshot {
  const scan = record(raw['scan'], 'snapshot.scan');
  const inventory = record(raw['inventory'], 'snapshot.inventory');
  const changes = record(raw['changes'], 'snapshot.changes');
  const source = inventory['source'];
  if (source !== 'none' && source !== 'openstack') throw invalid('snapshot.inventory.source');
  return {
    scan: {
      startedAt: date(scan['startedAt'], 'snapshot.scan.startedAt'),
      finishedAt: date(scan['finishedAt'], 'snapshot.scan.finishedAt'),
      targets: count(scan['targets'], 'snapshot.scan.targets'),
      hostsUp: count(scan['hostsUp'], 'snapshot.scan.hostsUp'),
      nmapVersion: text(scan['nmapVersion'], 'snapshot.scan.nmapVersion'),
      nmapArgs: list(scan['nmapArgs'], 'snapshot.scan.nmapArgs').map((args, i) =>
        list(args, `snapshot.scan.nmapArgs[${i}]`).map((arg, j) => text(arg, `snapshot.scan.nmapArgs[${i}][${j}]`)),
      ),
    },
    inventory: {
      source,
      up: bool(inventory['up'], 'snapshot.inventory.up'),
      syncedAt: inventory['syncedAt'] === undefined ? undefined : date(inventory['syncedAt'], 'snapshot.inventory.syncedAt'),
      servers: count(inventory['servers'], 'snapshot.inventory.servers'),
      addresses: count(inventory['addresses'], 'snapshot.inventory.addresses'),
    },
    hosts: list(raw['hosts'], 'snapshot.hosts').map((host, i) => readHost(record(host, `snapshot.hosts[${i}]`), `snapshot.hosts[${i}]`)),
    changes: {
      opened: list(changes['opened'], 'snapshot.changes.opened').map((ref, i) => readRef(ref, `snapshot.changes.opened[${i}]`)),
      closed: list(changes['closed'], 'snapshot.changes.closed').map((ref, i) => readRef(ref, `snapshot.changes.closed[${i}]`)),
    },
  };
}

const OWNER_FIELDS = ['vmId', 'vmName', 'vmStatus', 'ownerKind', 'userId', 'user', 'tenantId', 'tenant'] as const;

function readHost(raw: Record<string, unknown>, path: string): SnapshotHost {
  const ownerRaw = record(raw['owner'], `${path}.owner`);
  const owner = Object.fromEntries(OWNER_FIELDS.map((field) => [field, text(ownerRaw[field], `${path}.owner.${field}`)]));
  const ports = list(raw['ports'], `${path}.ports`).map((port, i) => readPort(record(port, `${path}.ports[${i}]`), `${path}.ports[${i}]`));
  return {
    ip: text(raw['ip'], `${path}.ip`),
    owner: owner as unknown as AddressOwner,
    ports,
    suspicious: bool(raw['suspicious'], `${path}.suspicious`),
  };
}

function readPort(raw: Record<string, unknown>, path: string): SnapshotPort {
  // A host's ports carry no ip of their own (the host has it), so they are read without readRef's ip.
  const ref = readPortNumber(raw, path);
  const portClass = raw['class'];
  if (portClass !== 'standard' && portClass !== 'excepted' && portClass !== 'nonstandard') throw invalid(`${path}.class`);
  const severity = raw['severity'];
  if (severity !== null && !SEVERITIES.includes(severity as never)) throw invalid(`${path}.severity`);
  const exception = raw['exception'];
  if (exception !== null && typeof exception !== 'string') throw invalid(`${path}.exception`);
  return {
    ...ref,
    service: text(raw['service'], `${path}.service`),
    class: portClass,
    severity: severity as SnapshotPort['severity'],
    exception,
    firstSeen: date(raw['firstSeen'], `${path}.firstSeen`),
  };
}

function readRef(raw: unknown, path: string): PortRef {
  const ref = record(raw, path);
  const { port, protocol } = readPortNumber(ref, path);
  return { ip: text(ref['ip'], `${path}.ip`), port, protocol };
}

function readPortNumber(raw: Record<string, unknown>, path: string): Omit<PortRef, 'ip'> {
  const protocol = raw['protocol'];
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') throw invalid(`${path}.protocol`);
  const port = count(raw['port'], `${path}.port`);
  if (port < 1 || port > 65535) throw invalid(`${path}.port`);
  return { port, protocol };
}

function invalid(path: string): Error {
  return new Error(`the state file has an invalid ${path}`);
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path);
  return value as Record<string, unknown>;
}

function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(path);
  return value;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(path);
  return value;
}

function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw invalid(path);
  return value;
}

function count(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(path);
  return value;
}

function date(value: unknown, path: string): Date {
  const parsed = typeof value === 'string' ? new Date(value) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime())) throw invalid(path);
  return parsed;
}

// The last snapshot on disk, so a restart neither empties /metrics nor resets first-seen times. Written
// atomically (temp file, fsync, rename): a crash mid-write leaves the previous file whole.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ExporterError, describeError } from '../errors.ts';
import { StrictValidator } from '../validation/validator.ts';
import { INVENTORY_SOURCES, UNKNOWN_OWNER } from '../inventory/inventory.ts';
import { stringifyInPieces } from './json-pieces.ts';
import type { AddressOwner } from '../inventory/inventory.ts';
import type {
  AdmittingRule,
  InventoryInfo,
  LatentExposure,
  PortRef,
  ScanInfo,
  Snapshot,
  SnapshotHost,
  SnapshotPort,
  SweepInfo,
} from '../exposure/snapshot.ts';
import { SEVERITIES } from '../exposure/severity.ts';
import { PASS_NAMES } from '../scan/scan-passes.ts';
import type { PassName, PassRun, PassRuns } from '../scan/scan-passes.ts';
import type { DetectedService } from '../scan/types.ts';

const SCHEMA_VERSION = 1;
/** Pieces are joined into writes of about this many characters: few system calls, little memory. */
const WRITE_BATCH_CHARS = 256 * 1024;

export interface StateFile {
  readonly path: string;
}

export function renderState(snapshot: Snapshot, savedAt: Date): string {
  return [...renderStatePieces(snapshot, savedAt)].join('');
}

// In batches: at 20,000 hosts the file is over 10 MB, and one string plus its encoded copy would outweigh the snapshot.
export function* renderStatePieces(snapshot: Snapshot, savedAt: Date): Generator<string> {
  let batch = '';
  for (const piece of stringifyInPieces(
    { schema_version: SCHEMA_VERSION, saved_at: savedAt.toISOString(), snapshot },
    { indent: 0 },
  )) {
    batch += piece;
    if (batch.length >= WRITE_BATCH_CHARS) {
      yield batch;
      batch = '';
    }
  }
  yield `${batch}\n`;
}

const CREATE_NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

const PRIVATE_SUBDIRECTORY = '.exposure-exporter';

// Where everyone may write without the sticky bit, anyone could replace the file: it goes into a subdirectory only
// this user may enter. One that exists but is not exactly that may have been planted, so it is refused.
export async function resolveStateFile(file: StateFile): Promise<StateFile & { readonly private: boolean }> {
  const directory = dirname(file.path);
  const stats = await stat(directory).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new ExporterError('STATE_INVALID', `cannot read the state directory ${directory}: ${err.message}`, {
      cause: err,
    });
  });
  if (!stats || (stats.mode & 0o002) === 0 || (stats.mode & 0o1000) !== 0) return { path: file.path, private: false };
  const privateDirectory = join(directory, PRIVATE_SUBDIRECTORY);
  await mkdir(privateDirectory, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST')
      throw new ExporterError('STATE_INVALID', `cannot create ${privateDirectory}: ${err.message}`);
  });
  const own = await lstat(privateDirectory);
  if (!own.isDirectory() || own.uid !== process.getuid?.() || (own.mode & 0o077) !== 0) {
    throw new ExporterError(
      'STATE_INVALID',
      `state.path: ${directory} is writable by everyone, and ${privateDirectory}, where the state would go instead, ` +
        'is not a directory of this user that only it may enter; remove it, or use a directory only the exporter can write',
    );
  }
  return { path: join(privateDirectory, basename(file.path)), private: true };
}

export async function saveState(file: StateFile, snapshot: Snapshot, savedAt: Date): Promise<void> {
  // Unpredictable, O_EXCL, O_NOFOLLOW: a name planted beforehand fails the write instead of truncating its target.
  const temporary = `${file.path}.tmp-${randomBytes(8).toString('hex')}`;
  let created = false;
  try {
    await mkdir(dirname(file.path), { recursive: true, mode: 0o700 });
    const handle = await open(temporary, CREATE_NEW_FILE, 0o600);
    created = true;
    try {
      await handle.writeFile(renderStatePieces(snapshot, savedAt));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file.path);
  } catch (err) {
    if (created) await rm(temporary, { force: true });
    throw new ExporterError(
      'STATE_WRITE_FAILED',
      `cannot write the state file ${file.path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** undefined when none exists yet; an unreadable file is moved aside (never overwritten), then STATE_INVALID. */
export async function loadState(file: StateFile, now: Date): Promise<Snapshot | undefined> {
  const aside = `${file.path}.invalid-${now.toISOString().replace(/[:.]/g, '')}`;
  const kind = await describeNonFile(file.path);
  if (kind !== undefined) {
    // Left there, it would fail every save: the rename cannot replace a directory.
    await rename(file.path, aside);
    throw new ExporterError(
      'STATE_INVALID',
      `the state file ${file.path} is ${kind}, not a file; moved it to ${aside}`,
    );
  }
  let text: string;
  try {
    text = await readFile(file.path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ExporterError('STATE_INVALID', `cannot read the state file ${file.path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return parseState(text);
  } catch (err) {
    await rename(file.path, aside);
    throw new ExporterError('STATE_INVALID', `${describeError(err)}; moved it to ${aside}`, { cause: err });
  }
}

async function describeNonFile(path: string): Promise<string | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats || stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'a special file';
}

// This program wrote the file, so one malformed field makes it untrustworthy: the first stops the read, named by its
// path. Fields added since schema_version 1 are optional, so an older release's file still loads.
const validator = new StrictValidator((path) => invalid(`the state file has an invalid ${path}`));

export function parseState(text: string): Snapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid('the state file is not JSON');
  }
  const root = validator.record(raw, 'state');
  if (root['schema_version'] !== SCHEMA_VERSION) {
    throw invalid(
      `the state file has schema_version ${JSON.stringify(root['schema_version'])}, expected ${SCHEMA_VERSION}`,
    );
  }
  return parseSnapshot(validator.record(root['snapshot'], 'snapshot'));
}

// One Date per distinct first-seen time (50,000 equal Dates cost megabytes); snapshot Dates are never mutated.
type DateCache = Map<string, Date>;

function parseSnapshot(raw: Record<string, unknown>): Snapshot {
  const changes = validator.record(raw['changes'], 'snapshot.changes');
  const dates: DateCache = new Map();
  return {
    scan: parseScanInfo(validator.record(raw['scan'], 'snapshot.scan')),
    sweep: raw['sweep'] === undefined ? undefined : parseSweepInfo(validator.record(raw['sweep'], 'snapshot.sweep')),
    inventory: parseInventoryInfo(validator.record(raw['inventory'], 'snapshot.inventory')),
    hosts: validator
      .list(raw['hosts'], 'snapshot.hosts')
      .map((host, i) => parseSnapshotHost(host, `snapshot.hosts[${i}]`, dates)),
    changes: {
      opened: validator
        .list(changes['opened'], 'snapshot.changes.opened')
        .map((ref, i) => parsePortRef(ref, `snapshot.changes.opened[${i}]`)),
      closed: validator
        .list(changes['closed'], 'snapshot.changes.closed')
        .map((ref, i) => parsePortRef(ref, `snapshot.changes.closed[${i}]`)),
    },
    latent:
      raw['latent'] === undefined
        ? []
        : validator
            .list(raw['latent'], 'snapshot.latent')
            .map((entry, i) => parseLatent(entry, `snapshot.latent[${i}]`)),
    ...(raw['passes'] === undefined ? {} : { passes: parsePasses(validator.record(raw['passes'], 'snapshot.passes')) }),
  };
}

function parsePasses(raw: Record<string, unknown>): PassRuns {
  const runs: Partial<Record<PassName, PassRun>> = {};
  for (const name of PASS_NAMES) {
    if (raw[name] !== undefined)
      runs[name] = parsePassRun(validator.record(raw[name], `snapshot.passes.${name}`), `snapshot.passes.${name}`);
  }
  return runs;
}

function parsePassRun(raw: Record<string, unknown>, path: string): PassRun {
  const error = raw['error'] === null ? null : validator.record(raw['error'], `${path}.error`);
  return {
    cycleStartedAt: validator.date(raw['cycleStartedAt'], `${path}.cycleStartedAt`),
    startedAt: validator.date(raw['startedAt'], `${path}.startedAt`),
    finishedAt: validator.date(raw['finishedAt'], `${path}.finishedAt`),
    success: validator.boolean(raw['success'], `${path}.success`),
    error: error && {
      code: validator.string(error['code'], `${path}.error.code`),
      message: validator.string(error['message'], `${path}.error.message`),
    },
    lastSuccessAt: raw['lastSuccessAt'] === null ? null : validator.date(raw['lastSuccessAt'], `${path}.lastSuccessAt`),
    scanned: validator.count(raw['scanned'], `${path}.scanned`),
    nmapArgs: validator
      .list(raw['nmapArgs'], `${path}.nmapArgs`)
      .map((args, i) =>
        validator
          .list(args, `${path}.nmapArgs[${i}]`)
          .map((arg, j) => validator.string(arg, `${path}.nmapArgs[${i}][${j}]`)),
      ),
  };
}

function parseDetected(value: unknown, path: string): DetectedService {
  const raw = validator.record(value, path);
  return {
    name: validator.string(raw['name'], `${path}.name`),
    product: validator.string(raw['product'], `${path}.product`),
    version: validator.string(raw['version'], `${path}.version`),
    unauthenticated: validator.boolean(raw['unauthenticated'], `${path}.unauthenticated`),
  };
}

/** A file written before sweeps existed has no scope: every cycle then scanned all its targets, a sweep. */
function parseScanInfo(scan: Record<string, unknown>): ScanInfo {
  const path = 'snapshot.scan';
  const targets = validator.count(scan['targets'], `${path}.targets`);
  return {
    startedAt: validator.date(scan['startedAt'], `${path}.startedAt`),
    finishedAt: validator.date(scan['finishedAt'], `${path}.finishedAt`),
    scope:
      scan['scope'] === undefined
        ? 'sweep'
        : validator.oneOf(scan['scope'], `${path}.scope`, ['known', 'sweep'] as const),
    targets,
    addressesScanned:
      scan['addressesScanned'] === undefined
        ? targets
        : validator.count(scan['addressesScanned'], `${path}.addressesScanned`),
    hostsUp: validator.count(scan['hostsUp'], `${path}.hostsUp`),
    // Files written before silent addresses were counted: none was known then.
    addressesSilent:
      scan['addressesSilent'] === undefined ? 0 : validator.count(scan['addressesSilent'], `${path}.addressesSilent`),
    nmapVersion: validator.string(scan['nmapVersion'], `${path}.nmapVersion`),
    nmapArgs: validator
      .list(scan['nmapArgs'], `${path}.nmapArgs`)
      .map((args, i) =>
        validator
          .list(args, `${path}.nmapArgs[${i}]`)
          .map((arg, j) => validator.string(arg, `${path}.nmapArgs[${i}][${j}]`)),
      ),
  };
}

function parseSweepInfo(sweep: Record<string, unknown>): SweepInfo {
  const path = 'snapshot.sweep';
  return {
    startedAt: validator.date(sweep['startedAt'], `${path}.startedAt`),
    finishedAt: validator.date(sweep['finishedAt'], `${path}.finishedAt`),
    addressesScanned: validator.count(sweep['addressesScanned'], `${path}.addressesScanned`),
    hostsUp: validator.count(sweep['hostsUp'], `${path}.hostsUp`),
    upAddresses: validator
      .list(sweep['upAddresses'], `${path}.upAddresses`)
      .map((ip, i) => validator.string(ip, `${path}.upAddresses[${i}]`)),
  };
}

function parseInventoryInfo(inventory: Record<string, unknown>): InventoryInfo {
  const path = 'snapshot.inventory';
  return {
    source: validator.oneOf(inventory['source'], `${path}.source`, INVENTORY_SOURCES),
    up: validator.boolean(inventory['up'], `${path}.up`),
    syncedAt:
      inventory['syncedAt'] === undefined ? undefined : validator.date(inventory['syncedAt'], `${path}.syncedAt`),
    servers: validator.count(inventory['servers'], `${path}.servers`),
    addresses: validator.count(inventory['addresses'], `${path}.addresses`),
  };
}

const OWNER_FIELDS = ['vmId', 'vmName', 'vmStatus', 'ownerKind', 'userId', 'user', 'tenantId', 'tenant'] as const;

function parseSnapshotHost(value: unknown, path: string, dates: DateCache): SnapshotHost {
  const raw = validator.record(value, path);
  const owner = parseOwner(raw['owner'], `${path}.owner`);
  return {
    ip: validator.string(raw['ip'], `${path}.ip`),
    // Addresses no inventory names share the one empty owner, as the hosts of a fresh scan do.
    owner: Object.values(owner).some((field) => field !== '') ? owner : UNKNOWN_OWNER,
    ports: validator
      .list(raw['ports'], `${path}.ports`)
      .map((port, i) => parseSnapshotPort(port, `${path}.ports[${i}]`, dates)),
    suspicious: validator.boolean(raw['suspicious'], `${path}.suspicious`),
  };
}

function parseOwner(value: unknown, path: string): AddressOwner {
  const raw = validator.record(value, path);
  const owner = Object.fromEntries(
    OWNER_FIELDS.map((field) => [field, validator.string(raw[field], `${path}.${field}`)]),
  );
  const userEmail = raw['userEmail'] === undefined ? '' : validator.string(raw['userEmail'], `${path}.userEmail`);
  return { ...(owner as Record<(typeof OWNER_FIELDS)[number], string>), userEmail };
}

function parseLatent(value: unknown, path: string): LatentExposure {
  const raw = validator.record(value, path);
  const port = raw['port'] === 'all' ? 'all' : parsePortNumber(raw, path).port;
  return {
    ip: validator.string(raw['ip'], `${path}.ip`),
    port,
    protocol: validator.oneOf(raw['protocol'], `${path}.protocol`, ['tcp', 'udp', 'sctp'] as const),
    severity: validator.oneOf(raw['severity'], `${path}.severity`, SEVERITIES),
    securityGroupId: validator.string(raw['securityGroupId'], `${path}.securityGroupId`),
    securityGroup: validator.string(raw['securityGroup'], `${path}.securityGroup`),
    ruleId: validator.string(raw['ruleId'], `${path}.ruleId`),
    owner: parseOwner(raw['owner'], `${path}.owner`),
  };
}

function parseAdmittingRule(value: unknown, path: string): AdmittingRule {
  const raw = validator.record(value, path);
  return {
    securityGroupId: validator.string(raw['securityGroupId'], `${path}.securityGroupId`),
    securityGroup: validator.string(raw['securityGroup'], `${path}.securityGroup`),
    ruleId: validator.string(raw['ruleId'], `${path}.ruleId`),
    remote: validator.string(raw['remote'], `${path}.remote`),
  };
}

function parseSnapshotPort(value: unknown, path: string, dates: DateCache): SnapshotPort {
  const raw = validator.record(value, path);
  const ref = parsePortNumber(raw, path);
  const severity = raw['severity'] === null ? null : validator.oneOf(raw['severity'], `${path}.severity`, SEVERITIES);
  const exception = raw['exception'] === null ? null : validator.string(raw['exception'], `${path}.exception`);
  return {
    ...ref,
    service: validator.string(raw['service'], `${path}.service`),
    class: validator.oneOf(raw['class'], `${path}.class`, ['standard', 'excepted', 'nonstandard'] as const),
    severity,
    exception,
    firstSeen: parseSharedDate(raw['firstSeen'], `${path}.firstSeen`, dates),
    admittedBy: validator
      .list(raw['admittedBy'] ?? [], `${path}.admittedBy`)
      .map((rule, i) => parseAdmittingRule(rule, `${path}.admittedBy[${i}]`)),
    portSecurity:
      raw['portSecurity'] === undefined || raw['portSecurity'] === null
        ? null
        : validator.boolean(raw['portSecurity'], `${path}.portSecurity`),
    ...(raw['detected'] === undefined ? {} : { detected: parseDetected(raw['detected'], `${path}.detected`) }),
  };
}

function parseSharedDate(value: unknown, path: string, dates: DateCache): Date {
  const known = typeof value === 'string' ? dates.get(value) : undefined;
  if (known) return known;
  const date = validator.date(value, path);
  dates.set(value as string, date);
  return date;
}

function parsePortRef(value: unknown, path: string): PortRef {
  const ref = validator.record(value, path);
  const { port, protocol } = parsePortNumber(ref, path);
  return { ip: validator.string(ref['ip'], `${path}.ip`), port, protocol };
}

function parsePortNumber(raw: Record<string, unknown>, path: string): Omit<PortRef, 'ip'> {
  const protocol = validator.oneOf(raw['protocol'], `${path}.protocol`, ['tcp', 'udp', 'sctp'] as const);
  const port = validator.count(raw['port'], `${path}.port`);
  if (port < 1 || port > 65535) validator.fail(`${path}.port`, 'not a port from 1 to 65535');
  return { port, protocol };
}

function invalid(message: string): ExporterError {
  return new ExporterError('STATE_INVALID', message);
}

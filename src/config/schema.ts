// The config file's shape, defaults and validation (pure): every problem at once, each naming its YAML path.
// Settings are plain values; the scan plan and the rules are built where they are used.
import { buildTargetSet, countAddresses, parseTargetSpec } from '../net/addresses.ts';
import type { AddressRange, TargetSet } from '../net/addresses.ts';
import { Validator } from '../validation/validator.ts';
import { childPath } from '../validation/describe.ts';
import { formatDuration, parseDurationSetting } from './duration.ts';
import { SEVERITY_LEVELS } from './severity-levels.ts';
import type { SeverityLevel } from './severity-levels.ts';
import { parseExceptionSettings } from './exception-settings.ts';
import type { ExceptionSetting } from './exception-settings.ts';
import { parsePortProtocol } from './port-protocol.ts';
import { parsePortListSetting } from './port-list-setting.ts';
import { parseShard } from './shard-setting.ts';
import { PASS_DEFAULTS, parseUdpSettings, parseVerifySettings } from './pass-settings.ts';
import type { UdpSettings, VerifySettings } from './pass-settings.ts';
import type { Shard } from './shard-setting.ts';
import { parseHistorySettings } from './history-settings.ts';
import type { HistorySettings } from './history-settings.ts';

export type { ExceptionMatchSetting, ExceptionSetting } from './exception-settings.ts';
export type { SafeScript, UdpSettings, VerifySettings } from './pass-settings.ts';

export type ScanTypeSetting = 'auto' | 'syn' | 'connect';
export type OpenStackInterface = 'public' | 'internal' | 'admin';

export interface NmapTuning {
  readonly timingTemplate: number;
  readonly maxRttTimeoutMs: number;
  readonly maxRetries: number;
  /** nmap's --min-rate and --max-rate in packets per second; 0 leaves the bound to nmap. */
  readonly minRate: number;
  readonly maxRate: number;
  readonly hostTimeoutMs: number;
}

export interface OpenStackConfig {
  readonly cloud: string | undefined;
  readonly cloudsFile: string | undefined;
  readonly regionName: string | undefined;
  /** Overrides the cloud's own interface; undefined leaves it to clouds.yaml or OS_INTERFACE (else public). */
  readonly interface: OpenStackInterface | undefined;
  readonly refreshIntervalMs: number;
  readonly requestTimeoutMs: number;
}

export interface InventoryFileConfig {
  readonly path: string;
  readonly refreshIntervalMs: number;
  /** A larger file is refused unread, and the last good one kept. */
  readonly maxBytes: number;
}

export interface ScanConfig {
  /** The target specs as written, for the landing page and the report. */
  readonly targetSpecs: readonly string[];
  readonly excludeSpecs: readonly string[];
  /** All replicas' targets, after exclusion: the boundary of everything scanned, known addresses included. */
  readonly targets: TargetSet;
  /** What a sweep scans: the targets without unsweptRanges. */
  readonly sweepTargets: TargetSet;
  /** Ranges over scan.max_targets (an IPv6 /64): with an inventory, a bound for known addresses, never swept. */
  readonly unsweptRanges: readonly AddressRange[];
  readonly shard: Shard;
  /** `default` (nmap's top ports and the risky ones), `all`, or a validated port list in its shortest form. */
  readonly ports: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** How often the whole targets are swept when an inventory names the addresses scanned in between. */
  readonly sweepIntervalMs: number;
  readonly sweepTimeoutMs: number;
  readonly maxTargets: number;
  readonly nmapPath: string;
  readonly scanType: ScanTypeSetting;
  /** Whether sweeps run nmap's host discovery first; known addresses never get it. */
  readonly hostDiscovery: boolean;
  readonly tuning: NmapTuning;
  /** The UDP pass; undefined with `scan.udp.ports: none`. */
  readonly udp: UdpSettings | undefined;
  readonly verify: VerifySettings;
}

export interface Config {
  readonly scan: ScanConfig;
  /** `port/protocol` keys of the ports that are never exposures. */
  readonly standardPorts: ReadonlySet<string>;
  /** `port/protocol` → level, over the built-in severity table. */
  readonly severityOverrides: ReadonlyMap<string, SeverityLevel>;
  readonly exceptions: readonly ExceptionSetting[];
  readonly openstack: OpenStackConfig | undefined;
  readonly inventoryFile: InventoryFileConfig | undefined;
  readonly statePath: string;
  readonly history: HistorySettings;
}

/** Whether the config names an inventory (OpenStack, a file or both): then cycles scan known addresses. */
export function hasInventory(settings: Pick<Config, 'openstack' | 'inventoryFile'>): boolean {
  return settings.openstack !== undefined || settings.inventoryFile !== undefined;
}

/** Every default in one place, written as a config file would write it. */
export const DEFAULTS = {
  scan: {
    targets: ['127.0.0.1'],
    exclude: [] as string[],
    ports: 'default',
    interval: '1h',
    timeout: '50m',
    sweep_interval: '24h',
    // sweep_timeout has no fixed default: 4 × scan.timeout, at most half of sweep_interval (see parseScanConfig).
    max_targets: 65536,
    shard: '0/1',
    nmap: {
      path: 'nmap',
      scan_type: 'auto',
      // Off: a security group that admits one port drops every discovery probe (README, "Firewalls").
      host_discovery: false,
      timing_template: 4,
      max_rtt_timeout: '500ms',
      max_retries: 2,
      // Silent addresses never speed nmap up, so this floor bounds a sweep (bench/firewall.ts); max_rate may lower it.
      min_rate: 5000,
      max_rate: 0,
      host_timeout: '10m',
    },
    // udp.interval has no fixed default: it is scan.interval.
    udp: PASS_DEFAULTS.udp,
    verify: PASS_DEFAULTS.verify,
  },
  standard_ports: ['22/tcp', '80/tcp', '443/tcp'],
  openstack: {
    refresh_interval: '10m',
    request_timeout: '30s',
  },
  inventory_file: {
    refresh_interval: '1m',
    // About 300,000 entries of an address, a name and a tenant; JSON of that size reads in about a second.
    max_bytes: 16 * 1024 * 1024,
  },
  state: {
    path: 'data/state.json',
  },
} as const;

export type ParseResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** What the command line overrides in any config file: the shard (`--shard=I/N`). */
export interface ConfigOverrides {
  readonly shard?: Shard;
}

export function parseConfig(raw: unknown, overrides: ConfigOverrides = {}): ParseResult {
  const validator = new Validator();
  const config = parseConfigRoot(validator, raw ?? {}, overrides);
  return validator.problems.length === 0 && config ? { ok: true, config } : { ok: false, problems: validator.problems };
}

export function defaultConfig(overrides: ConfigOverrides = {}): Config {
  const result = parseConfig({}, overrides);
  if (!result.ok) throw new Error(`built-in defaults are invalid: ${result.problems.join('; ')}`);
  return result.config;
}

const TOP_KEYS = [
  'scan',
  'standard_ports',
  'severity_overrides',
  'exceptions',
  'openstack',
  'inventory_file',
  'state',
  'history',
];
const SCAN_KEYS = [
  'targets',
  'exclude',
  'ports',
  'interval',
  'timeout',
  'sweep_interval',
  'sweep_timeout',
  'max_targets',
  'shard',
  'nmap',
  'udp',
  'verify',
];
const INVENTORY_FILE_KEYS = ['path', 'refresh_interval', 'max_bytes'];
/** A sweep scans every target, a known cycle a few: by default it gets four cycles' time. */
const SWEEP_TIMEOUT_FACTOR = 4;
const NMAP_KEYS = [
  'path',
  'scan_type',
  'host_discovery',
  'timing_template',
  'max_rtt_timeout',
  'max_retries',
  'min_rate',
  'max_rate',
  'host_timeout',
];
const OPENSTACK_KEYS = ['cloud', 'clouds_file', 'region_name', 'interface', 'refresh_interval', 'request_timeout'];
const STATE_KEYS = ['path'];

function parseConfigRoot(validator: Validator, raw: unknown, cli: ConfigOverrides): Config | undefined {
  const top = validator.mapping(raw, '(root)', TOP_KEYS);
  if (!top) return undefined;
  // The parser knows of an inventory only through these keys; with one, huge ranges become boundaries.
  const withInventory = top['openstack'] !== undefined || top['inventory_file'] !== undefined;
  const scan = parseScanConfig(validator, top['scan'] ?? {}, cli, withInventory);
  const standardPorts = parseStandardPorts(validator, top['standard_ports'] ?? DEFAULTS.standard_ports);
  const overrides = parseSeverityOverrides(validator, top['severity_overrides'] ?? {});
  const exceptions = parseExceptionSettings(validator, top['exceptions'] ?? []);
  const openstack = top['openstack'] === undefined ? undefined : parseOpenStackConfig(validator, top['openstack']);
  const inventoryFile =
    top['inventory_file'] === undefined ? undefined : parseInventoryFileConfig(validator, top['inventory_file']);
  const state = validator.mapping(top['state'] ?? {}, 'state', STATE_KEYS);
  const statePath = validator.nonEmptyString(state?.['path'] ?? DEFAULTS.state.path, 'state.path');
  const history = parseHistorySettings(validator, top['history'] ?? {});
  if (!scan || !standardPorts || !overrides || !exceptions || statePath === undefined || !history) return undefined;
  if (top['openstack'] !== undefined && !openstack) return undefined;
  if (top['inventory_file'] !== undefined && !inventoryFile) return undefined;
  return {
    scan,
    standardPorts,
    severityOverrides: overrides,
    exceptions,
    openstack,
    inventoryFile,
    statePath,
    history,
  };
}

function parseScanConfig(
  validator: Validator,
  raw: unknown,
  cli: ConfigOverrides,
  withInventory: boolean,
): ScanConfig | undefined {
  const scan = validator.mapping(raw, 'scan', SCAN_KEYS);
  if (!scan) return undefined;
  const targetSpecs = validator.stringList(scan['targets'] ?? DEFAULTS.scan.targets, 'scan.targets');
  const excludeSpecs = validator.stringList(scan['exclude'] ?? DEFAULTS.scan.exclude, 'scan.exclude');
  const targetRanges = targetSpecs && parseAddressRanges(validator, targetSpecs, 'scan.targets');
  const excludeRanges = excludeSpecs && parseAddressRanges(validator, excludeSpecs, 'scan.exclude');
  const maxTargets = validator.integer(
    scan['max_targets'] ?? DEFAULTS.scan.max_targets,
    'scan.max_targets',
    1,
    16_777_216,
  );
  const ports = parsePortListSetting(validator, scan['ports'] ?? DEFAULTS.scan.ports, 'scan.ports', ['default', 'all']);
  const intervalMs = parseDurationSetting(validator, scan['interval'] ?? DEFAULTS.scan.interval, 'scan.interval');
  const timeoutMs = parseDurationSetting(validator, scan['timeout'] ?? DEFAULTS.scan.timeout, 'scan.timeout');
  const sweepIntervalMs = parseDurationSetting(
    validator,
    scan['sweep_interval'] ?? DEFAULTS.scan.sweep_interval,
    'scan.sweep_interval',
  );
  const givenSweepTimeoutMs =
    scan['sweep_timeout'] === undefined
      ? undefined
      : parseDurationSetting(validator, scan['sweep_timeout'], 'scan.sweep_timeout');
  const nmap = parseNmapSettings(validator, scan['nmap'] ?? {});
  const configuredShard = parseShardSetting(validator, scan['shard'] ?? DEFAULTS.scan.shard);
  const shard = cli.shard ?? configuredShard;
  const udp = parseUdpSettings(validator, scan['udp'] ?? {}, {
    scanIntervalMs: intervalMs,
    parseDurationSetting: (value, path) => parseDurationSetting(validator, value, path),
  });
  const verify = parseVerifySettings(validator, scan['verify'] ?? {});
  if (targetSpecs?.length === 0) validator.report('scan.targets', 'must list at least one target');
  if (intervalMs === 0) validator.report('scan.interval', 'must be longer than 0s');
  if (intervalMs !== undefined && timeoutMs !== undefined && (timeoutMs >= intervalMs || timeoutMs === 0)) {
    validator.report(
      'scan.timeout',
      `${formatDuration(timeoutMs)} must be longer than 0s and shorter than scan.interval (${formatDuration(intervalMs)})`,
    );
  }
  if (sweepIntervalMs === 0) validator.report('scan.sweep_interval', 'must be longer than 0s');
  if (
    sweepIntervalMs !== undefined &&
    givenSweepTimeoutMs !== undefined &&
    (givenSweepTimeoutMs >= sweepIntervalMs || givenSweepTimeoutMs === 0)
  ) {
    validator.report(
      'scan.sweep_timeout',
      `${formatDuration(givenSweepTimeoutMs)} must be longer than 0s and shorter than scan.sweep_interval (${formatDuration(sweepIntervalMs)})`,
    );
  }
  const targets =
    targetRanges && excludeRanges && maxTargets !== undefined
      ? parseTargetSet(validator, targetRanges, excludeRanges, { maxTargets, withInventory })
      : undefined;
  if (
    !targetSpecs ||
    !excludeSpecs ||
    !targets ||
    maxTargets === undefined ||
    ports === undefined ||
    intervalMs === undefined ||
    timeoutMs === undefined ||
    !sweepIntervalMs ||
    !nmap ||
    !shard ||
    !udp.valid ||
    !verify ||
    (scan['sweep_timeout'] !== undefined && givenSweepTimeoutMs === undefined)
  ) {
    return undefined;
  }
  // Half the sweep interval at most, so a default sweep always leaves time for known cycles before the next.
  const sweepTimeoutMs =
    givenSweepTimeoutMs ?? Math.min(SWEEP_TIMEOUT_FACTOR * timeoutMs, Math.floor(sweepIntervalMs / 2));
  return {
    targetSpecs,
    excludeSpecs,
    ...targets,
    shard,
    ports,
    intervalMs,
    timeoutMs,
    sweepIntervalMs,
    sweepTimeoutMs,
    maxTargets,
    ...nmap,
    udp: udp.settings,
    verify,
  };
}

function parseShardSetting(validator: Validator, raw: unknown): Shard | undefined {
  const text = validator.string(raw, 'scan.shard');
  if (text === undefined) return undefined;
  const parsed = parseShard(text);
  return parsed.ok ? parsed.shard : validator.report('scan.shard', `${JSON.stringify(text)} ${parsed.reason}`);
}

function parseAddressRanges(validator: Validator, specs: readonly string[], path: string): AddressRange[] | undefined {
  const ranges: AddressRange[] = [];
  specs.forEach((spec, index) => {
    const parsed = parseTargetSpec(spec);
    if (parsed.ok) ranges.push(parsed.range);
    else validator.report(`${path}[${index}]`, `${JSON.stringify(spec)} ${parsed.reason}`);
  });
  return ranges.length === specs.length ? ranges : undefined;
}

function parseTargetSet(
  validator: Validator,
  targets: readonly AddressRange[],
  exclude: readonly AddressRange[],
  limits: { readonly maxTargets: number; readonly withInventory: boolean },
): Pick<ScanConfig, 'targets' | 'sweepTargets' | 'unsweptRanges'> | undefined {
  const { maxTargets, withInventory } = limits;
  const set = buildTargetSet(targets, exclude);
  // With an inventory, a range too large to sweep still bounds the known addresses scanned in it.
  const unsweptRanges = withInventory ? set.ranges.filter((range) => countAddresses([range]) > BigInt(maxTargets)) : [];
  const sweepTargets =
    unsweptRanges.length === 0
      ? set
      : buildTargetSet(
          set.ranges.filter((range) => !unsweptRanges.includes(range)),
          [],
        );
  // The exact bigint count: set.count is clamped to what a JS number holds exactly.
  const count = countAddresses(sweepTargets.ranges);
  if (count > BigInt(maxTargets)) {
    return validator.report(
      'scan.targets',
      `expands to ${count} addresses after exclusion, more than scan.max_targets (${maxTargets})`,
    );
  }
  if (set.count === 0 && targets.length > 0)
    return validator.report('scan.exclude', 'excludes every address of scan.targets');
  return { targets: set, sweepTargets, unsweptRanges };
}

function parseNmapSettings(
  validator: Validator,
  raw: unknown,
): Pick<ScanConfig, 'nmapPath' | 'scanType' | 'hostDiscovery' | 'tuning'> | undefined {
  const nmap = validator.mapping(raw, 'scan.nmap', NMAP_KEYS);
  if (!nmap) return undefined;
  const d = DEFAULTS.scan.nmap;
  const nmapPath = validator.nonEmptyString(nmap['path'] ?? d.path, 'scan.nmap.path');
  if (nmapPath?.startsWith('-'))
    validator.report('scan.nmap.path', `${JSON.stringify(nmapPath)} must not start with "-"`);
  const scanType = validator.oneOf(nmap['scan_type'] ?? d.scan_type, 'scan.nmap.scan_type', [
    'auto',
    'syn',
    'connect',
  ] as const);
  const hostDiscovery = validator.boolean(nmap['host_discovery'] ?? d.host_discovery, 'scan.nmap.host_discovery');
  const timingTemplate = validator.integer(
    nmap['timing_template'] ?? d.timing_template,
    'scan.nmap.timing_template',
    0,
    5,
  );
  const maxRttTimeoutMs = parseDurationSetting(
    validator,
    nmap['max_rtt_timeout'] ?? d.max_rtt_timeout,
    'scan.nmap.max_rtt_timeout',
  );
  // nmap refuses anything shorter ("must be at least 5ms"); catch it here rather than in every cycle.
  if (maxRttTimeoutMs !== undefined && maxRttTimeoutMs < 5) {
    validator.report(
      'scan.nmap.max_rtt_timeout',
      `${formatDuration(maxRttTimeoutMs)} is shorter than nmap's minimum of 5ms`,
    );
  }
  const maxRetries = validator.integer(nmap['max_retries'] ?? d.max_retries, 'scan.nmap.max_retries', 0, 50);
  const maxRate = validator.integer(nmap['max_rate'] ?? d.max_rate, 'scan.nmap.max_rate', 0, 1_000_000);
  const defaultMinRate = maxRate ? Math.min(d.min_rate, maxRate) : d.min_rate;
  const minRate = validator.integer(nmap['min_rate'] ?? defaultMinRate, 'scan.nmap.min_rate', 0, 1_000_000);
  if (minRate !== undefined && maxRate && minRate > maxRate) {
    validator.report('scan.nmap.min_rate', `${minRate} is above scan.nmap.max_rate (${maxRate})`);
  }
  const hostTimeoutMs = parseDurationSetting(
    validator,
    nmap['host_timeout'] ?? d.host_timeout,
    'scan.nmap.host_timeout',
  );
  if (
    nmapPath === undefined ||
    scanType === undefined ||
    hostDiscovery === undefined ||
    timingTemplate === undefined ||
    maxRttTimeoutMs === undefined ||
    maxRetries === undefined ||
    minRate === undefined ||
    maxRate === undefined ||
    hostTimeoutMs === undefined
  ) {
    return undefined;
  }
  return {
    nmapPath,
    scanType,
    hostDiscovery,
    tuning: { timingTemplate, maxRttTimeoutMs, maxRetries, minRate, maxRate, hostTimeoutMs },
  };
}

function parseStandardPorts(validator: Validator, raw: unknown): ReadonlySet<string> | undefined {
  const list = validator.list(raw, 'standard_ports', ' of strings');
  if (!list) return undefined;
  const keys = list.map((item, index) => parsePortProtocol(validator, item, `standard_ports[${index}]`));
  return keys.every((key) => key !== undefined) ? new Set(keys as string[]) : undefined;
}

function parseSeverityOverrides(validator: Validator, raw: unknown): ReadonlyMap<string, SeverityLevel> | undefined {
  const table = validator.anyMapping(raw, 'severity_overrides');
  if (!table) return undefined;
  const overrides = new Map<string, SeverityLevel>();
  let valid = true;
  for (const [key, value] of Object.entries(table)) {
    const path = childPath('severity_overrides', key);
    const port = parsePortProtocol(validator, key, path);
    const severity = validator.oneOf(value, path, SEVERITY_LEVELS);
    if (port === undefined || severity === undefined) valid = false;
    else overrides.set(port, severity);
  }
  return valid ? overrides : undefined;
}

function parseOpenStackConfig(validator: Validator, raw: unknown): OpenStackConfig | undefined {
  const entry = validator.mapping(raw ?? {}, 'openstack', OPENSTACK_KEYS);
  if (!entry) return undefined;
  const d = DEFAULTS.openstack;
  const optional = (key: string): string | undefined =>
    entry[key] === undefined ? undefined : validator.nonEmptyString(entry[key], `openstack.${key}`);
  const cloud = optional('cloud');
  const cloudsFile = optional('clouds_file');
  const regionName = optional('region_name');
  const iface =
    entry['interface'] === undefined
      ? undefined
      : validator.oneOf(entry['interface'], 'openstack.interface', ['public', 'internal', 'admin'] as const);
  const refreshIntervalMs = parseDurationSetting(
    validator,
    entry['refresh_interval'] ?? d.refresh_interval,
    'openstack.refresh_interval',
  );
  const requestTimeoutMs = parseDurationSetting(
    validator,
    entry['request_timeout'] ?? d.request_timeout,
    'openstack.request_timeout',
  );
  if (refreshIntervalMs === 0) validator.report('openstack.refresh_interval', 'must be longer than 0s');
  if (requestTimeoutMs === 0) validator.report('openstack.request_timeout', 'must be longer than 0s');
  // A bad optional key has already been reported, which fails the whole config; only the types need this.
  if (!refreshIntervalMs || !requestTimeoutMs) return undefined;
  return { cloud, cloudsFile, regionName, interface: iface, refreshIntervalMs, requestTimeoutMs };
}

function parseInventoryFileConfig(validator: Validator, raw: unknown): InventoryFileConfig | undefined {
  const entry = validator.mapping(raw, 'inventory_file', INVENTORY_FILE_KEYS);
  if (!entry) return undefined;
  if (entry['path'] === undefined) validator.report('inventory_file.path', 'is required');
  const path = entry['path'] === undefined ? undefined : validator.nonEmptyString(entry['path'], 'inventory_file.path');
  const refreshIntervalMs = parseDurationSetting(
    validator,
    entry['refresh_interval'] ?? DEFAULTS.inventory_file.refresh_interval,
    'inventory_file.refresh_interval',
  );
  if (refreshIntervalMs === 0) validator.report('inventory_file.refresh_interval', 'must be longer than 0s');
  const maxBytes = validator.integer(
    entry['max_bytes'] ?? DEFAULTS.inventory_file.max_bytes,
    'inventory_file.max_bytes',
    1,
    1024 * 1024 * 1024,
  );
  if (path === undefined || !refreshIntervalMs || maxBytes === undefined) return undefined;
  return { path, refreshIntervalMs, maxBytes };
}

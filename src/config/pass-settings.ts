/** The passes a cycle may add to its TCP port scan: UDP (`scan.udp`) and service verification (`scan.verify`). */
import { formatDuration } from './duration.ts';
import { parsePortListSetting } from './port-list-setting.ts';
import type { Validator } from '../validation/validator.ts';

/** The NSE scripts verification may run: read-only, and each asks its service one harmless question. */
export const SAFE_SCRIPTS = ['redis-info', 'mongodb-info', 'memcached-info'] as const;
export type SafeScript = (typeof SAFE_SCRIPTS)[number];

export interface UdpSettings {
  /** `default` (the amplifier list, targets/udp-ports.ts) or a validated nmap port list. */
  readonly ports: string;
  readonly intervalMs: number;
  readonly maxRetries: number;
  /** nmap's --defeat-icmp-ratelimit: silent ports are not waited out, which only `open|filtered` ports pay for. */
  readonly defeatIcmpRateLimit: boolean;
}

export interface VerifySettings {
  readonly enabled: boolean;
  /** nmap's --version-intensity, 0 (the likeliest probes only) to 9 (every probe). */
  readonly versionIntensity: number;
  readonly scripts: readonly SafeScript[];
}

export const UDP_KEYS = ['ports', 'interval', 'max_retries', 'defeat_icmp_ratelimit'];
export const VERIFY_KEYS = ['enabled', 'version_intensity', 'scripts'];

export const PASS_DEFAULTS = {
  udp: { ports: 'default', max_retries: 2, defeat_icmp_ratelimit: true },
  verify: { enabled: false, version_intensity: 2, scripts: [] as string[] },
} as const;

type DurationSettingParser = (value: unknown, path: string) => number | undefined;

/** `settings` is undefined with `ports: none`, and when invalid (then `valid` is false). */
export function parseUdpSettings(
  validator: Validator,
  raw: unknown,
  context: { readonly scanIntervalMs: number | undefined; readonly parseDurationSetting: DurationSettingParser },
): { settings: UdpSettings | undefined; valid: boolean } {
  const udp = validator.mapping(raw, 'scan.udp', UDP_KEYS);
  if (!udp) return { settings: undefined, valid: false };
  const d = PASS_DEFAULTS.udp;
  const ports = parsePortListSetting(validator, udp['ports'] ?? d.ports, 'scan.udp.ports', ['default', 'none']);
  const intervalMs =
    udp['interval'] === undefined
      ? context.scanIntervalMs
      : context.parseDurationSetting(udp['interval'], 'scan.udp.interval');
  const maxRetries = validator.integer(udp['max_retries'] ?? d.max_retries, 'scan.udp.max_retries', 0, 50);
  const defeatIcmpRateLimit = validator.boolean(
    udp['defeat_icmp_ratelimit'] ?? d.defeat_icmp_ratelimit,
    'scan.udp.defeat_icmp_ratelimit',
  );
  if (
    udp['interval'] !== undefined &&
    intervalMs !== undefined &&
    context.scanIntervalMs !== undefined &&
    intervalMs < context.scanIntervalMs
  ) {
    validator.report(
      'scan.udp.interval',
      `${formatDuration(intervalMs)} is shorter than scan.interval (${formatDuration(context.scanIntervalMs)}); the UDP pass runs at most once a cycle`,
    );
    return { settings: undefined, valid: false };
  }
  if (
    ports === undefined ||
    intervalMs === undefined ||
    maxRetries === undefined ||
    defeatIcmpRateLimit === undefined
  ) {
    return { settings: undefined, valid: false };
  }
  if (ports === 'none') return { settings: undefined, valid: true };
  return { settings: { ports, intervalMs, maxRetries, defeatIcmpRateLimit }, valid: true };
}

export function parseVerifySettings(validator: Validator, raw: unknown): VerifySettings | undefined {
  const verify = validator.mapping(raw, 'scan.verify', VERIFY_KEYS);
  if (!verify) return undefined;
  const d = PASS_DEFAULTS.verify;
  const enabled = validator.boolean(verify['enabled'] ?? d.enabled, 'scan.verify.enabled');
  const versionIntensity = validator.integer(
    verify['version_intensity'] ?? d.version_intensity,
    'scan.verify.version_intensity',
    0,
    9,
  );
  const list = validator.list(verify['scripts'] ?? d.scripts, 'scan.verify.scripts', ' of script names');
  const scripts = list?.map((item, index) => validator.oneOf(item, `scan.verify.scripts[${index}]`, SAFE_SCRIPTS));
  if (
    enabled === undefined ||
    versionIntensity === undefined ||
    !scripts ||
    scripts.some((script) => script === undefined)
  )
    return undefined;
  if (scripts.length > 0 && !enabled) {
    return validator.report(
      'scan.verify.scripts',
      'run only with verification; set scan.verify.enabled: true or remove them',
    );
  }
  return { enabled, versionIntensity, scripts: [...new Set(scripts as SafeScript[])] };
}

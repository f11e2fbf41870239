/** Command-line flags in the Prometheus exporter style (`--config.file=PATH`), parsed purely from argv. */
import { parseArgs } from 'node:util';
import { ExporterError } from './errors.ts';
import type { LogFormat, LogLevel } from './log.ts';
import { parseShard } from './config/shard-setting.ts';
import type { Shard } from './config/shard-setting.ts';

export interface Flags {
  readonly configFile: string | undefined;
  readonly configCheck: boolean;
  readonly listen: ListenAddress;
  readonly webConfigFile: string | undefined;
  readonly once: boolean;
  readonly failOnFindings: boolean;
  /** Overrides scan.shard of any config file. */
  readonly shard: Shard | undefined;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly version: boolean;
  readonly help: boolean;
}

export interface ListenAddress {
  /** undefined listens on every interface, as `:9869` does in Go exporters. */
  readonly host: string | undefined;
  readonly port: number;
}

const OPTIONS = {
  'config.file': { type: 'string' },
  'config.check': { type: 'boolean' },
  'web.listen-address': { type: 'string', default: ':9869' },
  'web.config.file': { type: 'string' },
  once: { type: 'boolean' },
  'fail-on-findings': { type: 'boolean' },
  shard: { type: 'string' },
  'log.level': { type: 'string', default: 'info' },
  'log.format': { type: 'string', default: 'logfmt' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const USAGE = `usage: exposure-exporter [flags]

Finds addresses that expose nonstandard ports, names their owners, and exports them to Prometheus.

flags:
  --config.file=PATH           YAML config (default: built-in, scans 127.0.0.1 only)
  --config.check               validate the config, print every problem, exit 0 (valid) or 1 (invalid)
  --web.listen-address=ADDR    where to serve /metrics and /report (default ":9869")
  --web.config.file=PATH       TLS, client certificates, headers and basic auth, in the Prometheus exporter
                               toolkit's web config format (node_exporter's file works); re-read on change
  --once                       run one scan cycle, print the JSON report, exit
  --fail-on-findings           with --once: exit 3 when a nonstandard port is open
  --shard=I/N                  scan only the targets whose address hashes to I mod N (replica I of N)
  --log.level=LEVEL            debug, info, warn or error (default "info")
  --log.format=FORMAT          logfmt or json (default "logfmt")
  --version                    print the version and exit
  -h, --help                   print this help and exit

exit codes: 0 ok, 1 runtime failure, 2 invalid config or flags, 3 findings (--fail-on-findings)
`;

export function parseFlags(argv: readonly string[]): Flags {
  let values: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: false }>
  >['values'];
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (err) {
    throw new ExporterError('FLAGS_INVALID', (err as Error).message.split('\n')[0] ?? 'invalid flags');
  }
  const logLevel = values['log.level'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ExporterError(
      'FLAGS_INVALID',
      `--log.level=${JSON.stringify(logLevel)} must be one of debug, info, warn, error`,
    );
  }
  const logFormat = values['log.format'];
  if (logFormat !== 'logfmt' && logFormat !== 'json') {
    throw new ExporterError('FLAGS_INVALID', `--log.format=${JSON.stringify(logFormat)} must be logfmt or json`);
  }
  if (values['fail-on-findings'] && !values.once) {
    throw new ExporterError('FLAGS_INVALID', '--fail-on-findings only makes sense with --once');
  }
  let shard: Shard | undefined;
  if (values.shard !== undefined) {
    const parsed = parseShard(values.shard);
    if (!parsed.ok)
      throw new ExporterError('FLAGS_INVALID', `--shard=${JSON.stringify(values.shard)} ${parsed.reason}`);
    shard = parsed.shard;
  }
  return {
    configFile: values['config.file'],
    configCheck: values['config.check'] ?? false,
    listen: parseListenAddress(values['web.listen-address']),
    webConfigFile: values['web.config.file'],
    once: values.once ?? false,
    failOnFindings: values['fail-on-findings'] ?? false,
    shard,
    logLevel: logLevel as LogLevel,
    logFormat,
    version: values.version ?? false,
    help: values.help ?? false,
  };
}

/** `:9869`, `127.0.0.1:9869`, `[::1]:9869`; port 0 picks a free port (tests use it). */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new ExporterError(
      'FLAGS_INVALID',
      `--web.listen-address=${JSON.stringify(text)} is not HOST:PORT, [IPv6]:PORT or :PORT`,
    );
  }
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

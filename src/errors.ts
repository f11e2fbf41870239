// One error type for the whole exporter. `code` is a literal so callers branch on it, never on message text;
// adapters (scan/, openstack/) translate library errors into these and keep the original as `cause`.
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'FLAGS_INVALID'
  | 'NMAP_NOT_FOUND'
  | 'NMAP_NO_PRIVILEGE'
  | 'NMAP_TIMEOUT'
  | 'NMAP_ABORTED'
  | 'NMAP_FAILED'
  | 'NMAP_OUTPUT_INVALID'
  | 'STATE_INVALID'
  | 'STATE_WRITE_FAILED'
  | 'INVENTORY_FILE_INVALID'
  | 'HISTORY_FAILED'
  | 'OPENSTACK_AUTH'
  | 'OPENSTACK_HTTP'
  | 'OPENSTACK_TIMEOUT'
  | 'OPENSTACK_ABORTED';

export class ExporterError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExporterError';
    this.code = code;
  }
}

/** Every problem found in one config source, each already prefixed with its YAML path. */
export class ConfigError extends ExporterError {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super('CONFIG_INVALID', problems.map((p) => `${source}: ${p}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A bad clouds.yaml, secure.yaml or OS_* is a configuration mistake: it exits and reads as a ConfigError does. */
export class CloudsConfigError extends ConfigError {
  constructor(source: string, problems: readonly string[]) {
    super(source, problems);
    this.name = 'CloudsConfigError';
  }
}

/** Not a ConfigError: the inventory file is re-read while running, and a bad version keeps the last good one. */
export class InventoryFileError extends ExporterError {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super('INVENTORY_FILE_INVALID', problems.map((p) => `${source}: ${p}`).join('\n'));
    this.name = 'InventoryFileError';
    this.problems = problems;
  }
}

export class OpenStackHttpError extends ExporterError {
  readonly status: number;

  constructor(options: { code: 'OPENSTACK_AUTH' | 'OPENSTACK_HTTP'; message: string; status: number }) {
    super(options.code, options.message);
    this.name = 'OpenStackHttpError';
    this.status = options.status;
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Why a file named by the user could not be read, in the words `ls` would use for the common cases. */
export function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return describeError(err);
}

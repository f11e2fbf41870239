// Structured logs: a constant message, data in fields, logfmt or JSON lines; loggers are passed down, never global.
// An error goes under `err` as an object (message, code, name, causes), never a stack trace.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  with(fields: LogFields): Logger;
}

export interface LoggedError {
  readonly message: string;
  readonly code?: string;
  readonly name?: string;
  readonly cause?: LoggedError;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Causes beyond this are left out: enough for adapter → library → system error, and safe on a cycle. */
const MAX_CAUSE_DEPTH = 4;

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly write: (line: string) => void;
  readonly now?: () => Date;
}

export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const now = options.now ?? (() => new Date());
  const emit =
    (level: LogLevel) =>
    (msg: string, fields: LogFields = {}) => {
      if (LEVEL_RANK[level] < LEVEL_RANK[options.level]) return;
      const record = { ts: now().toISOString(), level, msg, ...bound, ...fields };
      options.write(options.format === 'json' ? renderJson(record) : renderLogfmt(record));
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    with: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  with: () => silentLogger,
};

/** An object that is not an Error is logged by its kind only: its contents (a response, a config) may hold a secret. */
export function describeLoggedError(thrown: unknown, depth = 0): LoggedError {
  if (!(thrown instanceof Error)) {
    const message =
      typeof thrown === 'object' && thrown !== null ? 'a thrown object that is not an Error' : String(thrown);
    return { message };
  }
  const code = (thrown as { code?: unknown }).code;
  const cause =
    thrown.cause === undefined || depth >= MAX_CAUSE_DEPTH ? undefined : describeLoggedError(thrown.cause, depth + 1);
  return {
    message: thrown.message,
    ...(typeof code === 'string' ? { code } : {}),
    // "Error" says nothing the message does not; a subclass's name tells where the error came from.
    ...(thrown.name !== 'Error' ? { name: thrown.name } : {}),
    ...(cause ? { cause } : {}),
  };
}

function isErrorField(key: string, value: unknown): boolean {
  return value !== undefined && (key === 'err' || value instanceof Error);
}

function renderJson(record: Record<string, unknown>): string {
  const fields = Object.entries(record).map(([key, value]) => [
    key,
    isErrorField(key, value) ? describeLoggedError(value) : value,
  ]);
  return JSON.stringify(Object.fromEntries(fields), replaceNestedErrors);
}

function renderLogfmt(record: Record<string, unknown>): string {
  return Object.entries(record)
    .flatMap(([key, value]) =>
      isErrorField(key, value) ? flattenError(key, describeLoggedError(value)) : [[key, value] as const],
    )
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${quoteLogfmt(stringify(value))}`)
    .join(' ');
}

/** An Error inside another field's object (a list of failures) is described the same way, never as `{}`. */
function replaceNestedErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? describeLoggedError(value) : value;
}

/** logfmt has no nesting: dotted keys (err.cause.code=…) keep each part greppable, unlike one quoted JSON value. */
function flattenError(prefix: string, error: LoggedError): (readonly [string, unknown])[] {
  const own = [
    [`${prefix}.message`, error.message],
    [`${prefix}.code`, error.code],
    [`${prefix}.name`, error.name],
  ] as const;
  return error.cause ? [...own, ...flattenError(`${prefix}.cause`, error.cause)] : [...own];
}

function stringify(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value, replaceNestedErrors);
  return String(value);
}

function quoteLogfmt(text: string): string {
  if (text !== '' && !/[\s"=\\]/.test(text) && /^[\x21-\x7e]+$/.test(text)) return text;
  return JSON.stringify(text);
}

/**
 * Structured logs: a constant message plus data in fields, as logfmt (the Prometheus ecosystem's default) or
 * JSON lines. Loggers are values passed down, never a global.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line, e.g. the cycle number. */
  with(fields: LogFields): Logger;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly write: (line: string) => void;
  readonly now?: () => Date;
}

export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
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

/** A logger that drops everything, for tests and for code paths that must not log. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  with: () => silentLogger,
};

function renderJson(record: Record<string, unknown>): string {
  return JSON.stringify(record, (_key, value: unknown) => (value instanceof Error ? errorText(value) : value));
}

function renderLogfmt(record: Record<string, unknown>): string {
  return Object.entries(record)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${quoteLogfmt(stringify(value))}`)
    .join(' ');
}

function stringify(value: unknown): string {
  if (value instanceof Error) return errorText(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Only the message: a stack trace is for developers running with a debugger, not for operators' logs. */
function errorText(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
}

function quoteLogfmt(text: string): string {
  if (text !== '' && !/[\s"=\\]/.test(text) && /^[\x21-\x7e]+$/.test(text)) return text;
  return JSON.stringify(text);
}

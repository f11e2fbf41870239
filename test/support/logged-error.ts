/** Reads the `err` object the exporter's JSON log writes for a failure: its message, code and cause chain. */

export interface LoggedErrorFields {
  readonly message: string;
  readonly code: string | undefined;
}

/** The error a log line carries; fails the test when the line has none. */
export function loggedError(line: Record<string, unknown> | undefined): LoggedErrorFields {
  const err = line?.['err'];
  if (typeof err !== 'object' || err === null)
    throw new Error(`the log line has no err object: ${JSON.stringify(line)}`);
  const { message, code } = err as { message?: unknown; code?: unknown };
  return { message: String(message), code: typeof code === 'string' ? code : undefined };
}

/** `CODE: message`, as an operator reads the two together. */
export function renderLoggedError(line: Record<string, unknown> | undefined): string {
  const { code, message } = loggedError(line);
  return code === undefined ? message : `${code}: ${message}`;
}

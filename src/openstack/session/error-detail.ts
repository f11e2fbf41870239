/** The message in an OpenStack error body, shortened and scrubbed for quoting; a proxy's HTML page adds nothing. */
import { isPlainObject } from '../../validation/describe.ts';

/** A body is quoted this far; the rest of a long stack trace or policy dump helps no one in a log line. */
const MAX_DETAIL_CHARS = 300;

export function formatErrorDetail(text: string, scrub: (text: string) => string): string {
  const message = extractErrorMessage(text);
  if (message === undefined) return '';
  const short = message.length > MAX_DETAIL_CHARS ? `${message.slice(0, MAX_DETAIL_CHARS)}…` : message;
  return `: ${scrub(short)}`;
}

/** OpenStack error bodies: `{"error": {"message"}}` (Keystone), `{"forbidden": {"message"}}` (Nova), `{"NeutronError": {"message"}}`. */
export function extractErrorMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(body)) return undefined;
  for (const value of Object.values(body)) {
    if (isPlainObject(value) && typeof value['message'] === 'string' && value['message'] !== '')
      return value['message'];
  }
  return undefined;
}

/** Prometheus durations: parsed, formatted, and read as a setting. */
import { renderValue } from '../validation/describe.ts';
import type { Validator } from '../validation/validator.ts';

/** Prometheus duration syntax: units from years down to milliseconds, each at most once, largest first. */
const UNIT_MS: readonly [string, number][] = [
  ['y', 365 * 24 * 3600 * 1000],
  ['w', 7 * 24 * 3600 * 1000],
  ['d', 24 * 3600 * 1000],
  ['h', 3600 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
];

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds, or undefined when the text is not a Prometheus duration. "0" is the only bare number. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  let total = 0;
  UNIT_MS.forEach(([, ms], index) => {
    const amount = match[index + 1];
    if (amount !== undefined) total += Number(amount) * ms;
  });
  return Number.isSafeInteger(total) ? total : undefined;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of UNIT_MS) {
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      text += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return text;
}

/** The longest delay setTimeout and AbortSignal.timeout honour (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** An `age` (a retention, a remediation target) is never waited for by a timer, so it has no ceiling. */
export function parseDurationSetting(
  validator: Validator,
  value: unknown,
  path: string,
  use: 'timer' | 'age' = 'timer',
): number | undefined {
  // A bare 0 is the one number Prometheus reads as a duration, and YAML hands it over as a number.
  const ms = typeof value === 'string' ? parseDuration(value) : value === 0 ? 0 : undefined;
  if (ms === undefined) {
    return validator.report(
      path,
      `${renderValue(value)} is not a valid duration (use Prometheus syntax such as 30s, 10m, 1h)`,
    );
  }
  // Node.js fires a longer timer after 1ms, which would turn a 30d interval into back-to-back scans.
  if (use === 'timer' && ms > MAX_TIMER_MS) {
    return validator.report(
      path,
      `${renderValue(value)} is longer than the longest supported duration, ${formatDuration(MAX_TIMER_MS)}`,
    );
  }
  return ms;
}

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

/** The shortest Prometheus rendering of a duration, for messages and the landing page. */
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

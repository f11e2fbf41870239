/** Waiting for a condition a real process reaches in its own time, always with a deadline. */

export interface PollOptions<T> {
  /** What is awaited, for the message when the deadline passes. */
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** The last value read, shown in that message so a failure says what was seen instead. */
  readonly describe?: (value: T) => string;
}

/** Reads until the predicate holds on what was read and returns that; throws once the deadline has passed. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  predicate: (value: T) => boolean,
  options: PollOptions<T>,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline) {
      const seen = options.describe === undefined ? '' : `: ${options.describe(value)}`;
      throw new Error(`timed out waiting for ${options.what}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}

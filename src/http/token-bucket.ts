/**
 * The toolkit's rate limit (Go's golang.org/x/time/rate with Allow()): a bucket of `burst` tokens, full at
 * the start, refilled by one token every `intervalMs`; a request takes a token or is refused. A dozen lines
 * of our own rather than a library: the whole behaviour is the arithmetic below.
 */
import type { RateLimit } from './web-config.ts';

export class TokenBucket {
  readonly #limit: RateLimit;
  #tokens: number;
  #at: number;

  constructor(limit: RateLimit, nowMs: number) {
    this.#limit = limit;
    this.#tokens = limit.burst;
    this.#at = nowMs;
  }

  /** Takes a token if one is there. With burst 0 nothing is ever allowed, as in Go. */
  take(nowMs: number): boolean {
    const { intervalMs, burst } = this.#limit;
    this.#tokens = Math.min(burst, this.#tokens + Math.max(0, nowMs - this.#at) / intervalMs);
    this.#at = Math.max(this.#at, nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether this bucket was made for the same limit, so a reload that keeps it keeps its tokens. */
  hasLimit(limit: RateLimit | undefined): boolean {
    return limit !== undefined && limit.intervalMs === this.#limit.intervalMs && limit.burst === this.#limit.burst;
  }
}

// The toolkit's rate limit (golang.org/x/time/rate's Allow()): `burst` tokens, full at start, one more every
// `intervalMs`. Our own dozen lines rather than a library: the whole behaviour is the arithmetic below.
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

  /** With burst 0 nothing is ever allowed, as in Go. */
  take(nowMs: number): boolean {
    const { intervalMs, burst } = this.#limit;
    this.#tokens = Math.min(burst, this.#tokens + Math.max(0, nowMs - this.#at) / intervalMs);
    this.#at = Math.max(this.#at, nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  hasLimit(limit: RateLimit | undefined): boolean {
    return limit !== undefined && limit.intervalMs === this.#limit.intervalMs && limit.burst === this.#limit.burst;
  }
}

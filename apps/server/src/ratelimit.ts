/**
 * Token buckets per key, in memory. Bounded: beyond `maxKeys` the least recently used key is
 * forgotten (a forgotten key starts with a full bucket, which only ever errs toward allowing).
 * Kept by hand rather than with a library because the server needs X-RateLimit-* headers and
 * a hard memory bound under a flood of distinct keys, in thirty lines.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    readonly perSecond: number,
    readonly burst = perSecond * 2,
    private readonly maxKeys = 10_000,
  ) {}

  take(
    key: string,
    now = Date.now(),
  ): { allowed: boolean; remaining: number; resetSeconds: number; retryAfterSeconds: number } {
    let b = this.buckets.get(key)
    if (b) {
      this.buckets.delete(key)
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond)
      b.at = now
    } else {
      b = { tokens: this.burst, at: now }
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value
        if (oldest !== undefined) this.buckets.delete(oldest)
      }
    }
    this.buckets.set(key, b)
    const allowed = b.tokens >= 1
    if (allowed) b.tokens -= 1
    const missing = this.burst - b.tokens
    return {
      allowed,
      remaining: Math.floor(b.tokens),
      resetSeconds: Math.ceil(missing / this.perSecond),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond)),
    }
  }

  get size(): number {
    return this.buckets.size
  }
}

import { createHash, timingSafeEqual } from 'node:crypto'
import type { TenantRecord, Tenants } from '@cuekit/engine'
import { API_KEY_PATTERN } from '@cuekit/protocol'
import type { Context } from 'hono'
import type { ServerConfig } from './config.ts'
import type { AppEnv } from './context.ts'
import { HttpError } from './errors.ts'
import type { RateLimiter } from './ratelimit.ts'

/**
 * A check a route runs before its handler (a plain call rather than a middleware: every
 * middleware level stays suspended, with its closures, as long as a long-poll waits).
 */
export type Guard = (c: Context<AppEnv>) => Promise<void>

/** The token of an `Authorization: Bearer` header. */
export function bearer(header: string | undefined): string | null {
  if (!header) return null
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m ? m[1]! : null
}

const sha = (s: string) => createHash('sha256').update(s).digest()

/**
 * API key -> tenant, cached briefly so the hot path (claim, heartbeat, outcome) does not pay a
 * Redis round trip for auth. A regenerated key's predecessor stays valid on other servers for
 * at most `ttlMs`.
 */
export class AuthCache {
  private readonly cache = new Map<string, { tenant: TenantRecord | null; until: number }>()

  constructor(
    private readonly tenants: Tenants,
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 10_000,
  ) {}

  async resolve(apiKey: string): Promise<TenantRecord | null> {
    const hit = this.cache.get(apiKey)
    const now = Date.now()
    if (hit && hit.until > now) return hit.tenant
    const tenant = await this.tenants.byApiKey(apiKey)
    if (this.cache.size >= this.maxEntries) this.cache.clear()
    this.cache.set(apiKey, { tenant, until: now + this.ttlMs })
    return tenant
  }

  forgetTenant(tenantId: string): void {
    for (const [key, entry] of this.cache) if (entry.tenant?.id === tenantId) this.cache.delete(key)
  }
}

export function rateLimitHeaders(
  result: ReturnType<RateLimiter['take']>,
  limiter: RateLimiter,
): Record<string, string> {
  const headers: Record<string, string> = {
    'X-RateLimit-Limit': String(limiter.burst),
    'X-RateLimit-Remaining': String(result.remaining),
    'X-RateLimit-Reset': String(result.resetSeconds),
  }
  if (!result.allowed) headers['Retry-After'] = String(result.retryAfterSeconds)
  return headers
}

export function tenantAuth(cache: AuthCache, limiter: RateLimiter | null): Guard {
  // Failed authentications count against the client address, so a flood of made-up keys cannot
  // turn every request into a storage lookup.
  const refuse = (c: Context<AppEnv>): never => {
    if (limiter) {
      const address = c.env?.incoming?.socket?.remoteAddress ?? 'unknown'
      const result = limiter.take(`ip:${address}`)
      if (!result.allowed)
        throw new HttpError('rate_limited', undefined, undefined, rateLimitHeaders(result, limiter))
    }
    throw new HttpError('unauthorized')
  }
  return async (c) => {
    const key = bearer(c.req.header('authorization'))
    if (!key || !API_KEY_PATTERN.test(key)) refuse(c)
    if (limiter) {
      const result = limiter.take(key as string)
      const headers = rateLimitHeaders(result, limiter)
      if (!result.allowed) throw new HttpError('rate_limited', undefined, undefined, headers)
      for (const [k, v] of Object.entries(headers)) c.header(k, v)
      c.set('rateLimit', headers)
    }
    const tenant = await cache.resolve(key as string)
    if (!tenant) refuse(c)
    c.set('tenant', tenant as TenantRecord)
  }
}

/** The tenant's own setting; the server default for tenants that predate it. */
export function leaseTokenRequired(
  tenant: TenantRecord,
  config: Pick<ServerConfig, 'requireLeaseToken'>,
): boolean {
  return tenant.requireLeaseToken ?? config.requireLeaseToken
}

/** Compares secrets in constant time (their hashes, so lengths do not show either). */
export function sameSecret(given: string | null, expected: string): boolean {
  return given !== null && timingSafeEqual(sha(given), sha(expected))
}

export function adminAuth(adminKey: string | null): Guard {
  return async (c) => {
    const key = bearer(c.req.header('authorization'))
    if (!key) throw new HttpError('unauthorized')
    if (!adminKey || !sameSecret(key, adminKey))
      throw new HttpError('forbidden', 'The admin key is required.')
  }
}

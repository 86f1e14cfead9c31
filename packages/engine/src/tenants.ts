import { createHash, randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { TenantRef } from './core.ts'
import { newTenantId } from './ids.ts'
import type { Keys } from './keys.ts'
import { KEY_ROTATE_ARGS, TENANT_FIELDS } from './layouts/index.ts'
import { args, globalScript } from './scripts.ts'

export interface TenantRecord extends TenantRef, TenantSettingsRecord {
  name: string | null
  email: string | null
  createdAt: number
}

/** What a tenant may change about itself (`PATCH /v1/auth/me`). */
export interface TenantSettings {
  /** Heartbeats, outcomes and releases must carry the lease token. */
  requireLeaseToken: boolean
}

/** Settings as stored: null where the tenant predates the setting (the server default applies). */
type TenantSettingsRecord = { [K in keyof TenantSettings]: TenantSettings[K] | null }

const F = TENANT_FIELDS.names

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex')
}

export function newApiKey(): string {
  return `cue_sk_${randomBytes(16).toString('hex')}`
}

/** CueAPI's webhook signing secrets: `whsec_` and 64 lowercase hex characters. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('hex')}`
}

const KEY_ROTATE = globalScript('key_rotate')

/**
 * Tenants and their API keys. Keys are stored only as SHA-256 hashes; a tenant has one live key
 * (regenerating revokes the previous one).
 */
export class Tenants {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: Keys,
  ) {}

  async create(input: {
    name?: string | null
    email?: string | null
    partitions?: number
    /** The server's default for new tenants; unset leaves the setting to the server default. */
    requireLeaseToken?: boolean
  }): Promise<{
    tenant: TenantRecord
    apiKey: string
  }> {
    const tenant: TenantRecord = {
      id: newTenantId(),
      partitions: Math.max(1, Math.floor(input.partitions ?? 1)),
      name: input.name ?? null,
      email: input.email ?? null,
      createdAt: Date.now(),
      requireLeaseToken: input.requireLeaseToken ?? null,
    }
    const apiKey = newApiKey()
    const hash = hashApiKey(apiKey)
    if (tenant.email !== null) {
      const claimed = await this.redis.set(this.keys.email(tenant.email), tenant.id, 'NX')
      if (claimed !== 'OK') throw new DuplicateEmailError()
    }
    await this.redis
      .multi()
      .hset(this.keys.tenant(tenant.id), {
        [F.partitions]: String(tenant.partitions),
        [F.name]: tenant.name ?? '',
        [F.email]: tenant.email ?? '',
        [F.created_at]: String(tenant.createdAt),
        [F.key_hash]: hash,
        ...settingFields(tenant),
      })
      .sadd(this.keys.tenants(), tenant.id)
      .set(this.keys.apiKey(hash), tenant.id)
      .exec()
    return { tenant, apiKey }
  }

  async get(tenantId: string): Promise<TenantRecord | null> {
    const h = await this.redis.hgetall(this.keys.tenant(tenantId))
    if (!h[F.partitions]) return null
    const rlt = h[F.require_lease_token]
    return {
      id: tenantId,
      partitions: Number(h[F.partitions]),
      name: h[F.name] || null,
      email: h[F.email] || null,
      createdAt: Number(h[F.created_at]),
      requireLeaseToken: rlt === undefined ? null : rlt === '1',
    }
  }

  /** Changes the given settings; the others stay. Null for an unknown tenant. */
  async update(tenantId: string, patch: Partial<TenantSettings>): Promise<TenantRecord | null> {
    const fields = settingFields(patch)
    const key = this.keys.tenant(tenantId)
    // Only an existing tenant's hash is written: HSET alone would create a stub.
    if (Object.keys(fields).length > 0 && (await this.redis.exists(key)) === 1) {
      await this.redis.hset(key, fields)
    }
    return this.get(tenantId)
  }

  async byApiKey(apiKey: string): Promise<TenantRecord | null> {
    const id = await this.redis.get(this.keys.apiKey(hashApiKey(apiKey)))
    return id ? this.get(id) : null
  }

  async byEmail(email: string): Promise<TenantRecord | null> {
    const id = await this.redis.get(this.keys.email(email))
    return id ? this.get(id) : null
  }

  /**
   * Issues a new key and revokes `currentKey`, in one step, and only while `currentKey` is still
   * the tenant's key: of concurrent rotations one wins and the others get null, so the tenant
   * always has exactly the key it was last given. Null also for a key already revoked (another
   * server's auth cache may still accept it for a few seconds) and for an unknown tenant.
   */
  async regenerateKey(tenantId: string, currentKey: string): Promise<string | null> {
    const apiKey = newApiKey()
    const current = hashApiKey(currentKey)
    const next = hashApiKey(apiKey)
    const rotated = await KEY_ROTATE.run(
      this.redis,
      [this.keys.tenant(tenantId), this.keys.apiKey(current), this.keys.apiKey(next)],
      args(KEY_ROTATE_ARGS, { presented_hash: current, new_hash: next, tenant_id: tenantId }),
    )
    return Number(rotated) === 1 ? apiKey : null
  }

  /** The tenant's webhook signing secret, created on first use (kept in the tenant's hash). */
  async webhookSecret(tenantId: string): Promise<string> {
    const key = this.keys.tenant(tenantId)
    const current = await this.redis.hget(key, F.webhook_secret)
    if (current) return current
    // HSETNX: two servers creating it at once agree on the first one written.
    await this.redis.hsetnx(key, F.webhook_secret, newWebhookSecret())
    return (await this.redis.hget(key, F.webhook_secret))!
  }

  /** Replaces the webhook signing secret; the previous one stops verifying at once. */
  async regenerateWebhookSecret(tenantId: string): Promise<string> {
    const secret = newWebhookSecret()
    await this.redis.hset(this.keys.tenant(tenantId), F.webhook_secret, secret)
    return secret
  }

  /** The URL alerts are posted to (CueAPI's alert_webhook_url), null when none. */
  async alertWebhookUrl(tenantId: string): Promise<string | null> {
    return (await this.redis.hget(this.keys.tenant(tenantId), F.alert_webhook_url)) || null
  }

  /**
   * Sets (or, with null, clears) the alert webhook. While one is set, the scripts of every
   * partition queue a delivery per alert (their marker key), and the dispatcher visits the tenant.
   */
  async setAlertWebhookUrl(tenant: TenantRef, url: string | null): Promise<void> {
    const multi = this.redis.multi()
    if (url) multi.hset(this.keys.tenant(tenant.id), F.alert_webhook_url, url)
    else multi.hdel(this.keys.tenant(tenant.id), F.alert_webhook_url)
    await multi.exec()
    // Partition keys live in other slots than the tenant record: written one by one.
    for (let p = 0; p < tenant.partitions; p++) {
      const marker = this.keys.alertHook({ tenantId: tenant.id, partition: p })
      if (url) await this.redis.set(marker, '1')
      else await this.redis.del(marker)
    }
    if (url) await this.markWebhookTenant(tenant.id)
  }

  /** The secret alert webhooks are signed with (64 hex, CueAPI's), created on first use. */
  async alertWebhookSecret(tenantId: string): Promise<string> {
    const key = this.keys.tenant(tenantId)
    await this.redis.hsetnx(key, F.alert_webhook_secret, randomBytes(32).toString('hex'))
    return (await this.redis.hget(key, F.alert_webhook_secret))!
  }

  /** Replaces the alert webhook secret; the previous one stops verifying at once. */
  async regenerateAlertWebhookSecret(tenantId: string): Promise<string> {
    const secret = randomBytes(32).toString('hex')
    await this.redis.hset(this.keys.tenant(tenantId), F.alert_webhook_secret, secret)
    return secret
  }

  /** Marks a tenant as having webhook cues, so the dispatcher's coarse re-check visits it. */
  async markWebhookTenant(tenantId: string): Promise<void> {
    await this.redis.sadd(this.keys.webhookTenants(), tenantId)
  }

  async webhookTenantIds(): Promise<string[]> {
    return this.redis.smembers(this.keys.webhookTenants())
  }

  async list(): Promise<TenantRecord[]> {
    const ids = await this.redis.smembers(this.keys.tenants())
    const all = await Promise.all(ids.map((id) => this.get(id)))
    return all.filter((t): t is TenantRecord => t !== null)
  }
}

/** The tenant hash's fields for the settings that are set (`rlt`: require lease token). */
function settingFields(settings: Partial<TenantSettingsRecord>): Record<string, string> {
  const fields: Record<string, string> = {}
  if (typeof settings.requireLeaseToken === 'boolean') {
    fields[F.require_lease_token] = settings.requireLeaseToken ? '1' : '0'
  }
  return fields
}

export class DuplicateEmailError extends Error {
  override readonly name = 'DuplicateEmailError'
  constructor() {
    super('this email is already registered')
  }
}

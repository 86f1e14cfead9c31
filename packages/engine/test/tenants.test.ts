import { Tenants } from '@cuekit/engine'
import { describe, expect, it } from 'vitest'
import { newEngine } from './backend.ts'

function newTenants() {
  const engine = newEngine()
  return new Tenants(engine.redis, engine.keys)
}

describe('API key rotation', () => {
  it('rotates: the new key works, the presented one is revoked', async () => {
    const tenants = newTenants()
    const { tenant, apiKey } = await tenants.create({ name: 'a' })
    const next = await tenants.regenerateKey(tenant.id, apiKey)
    expect(next).toMatch(/^cue_sk_[0-9a-f]{32}$/)
    expect((await tenants.byApiKey(next!))?.id).toBe(tenant.id)
    expect(await tenants.byApiKey(apiKey)).toBeNull()
    // A revoked key cannot rotate again (it may still sit in another server's auth cache).
    expect(await tenants.regenerateKey(tenant.id, apiKey)).toBeNull()
    expect((await tenants.byApiKey(next!))?.id).toBe(tenant.id)
  })

  it('parallel rotations leave exactly the one key that was handed out', async () => {
    const tenants = newTenants()
    const { tenant, apiKey } = await tenants.create({ name: 'a' })
    const issued = await Promise.all(
      Array.from({ length: 8 }, () => tenants.regenerateKey(tenant.id, apiKey)),
    )
    const handedOut = issued.filter((k): k is string => k !== null)
    // Exactly one key works, and it is one that was handed out.
    const working: string[] = []
    for (const k of [apiKey, ...handedOut]) if (await tenants.byApiKey(k)) working.push(k)
    expect(working).toHaveLength(1)
    expect(handedOut).toEqual(working)

    // Round two from the surviving key: whatever was issued earlier is dead afterwards.
    const [current] = handedOut as [string]
    const again = await Promise.all(
      Array.from({ length: 8 }, () => tenants.regenerateKey(tenant.id, current)),
    )
    const latest = again.filter((k): k is string => k !== null)
    expect(latest).toHaveLength(1)
    for (const k of [apiKey, current]) expect(await tenants.byApiKey(k)).toBeNull()
    expect((await tenants.byApiKey(latest[0]!))?.id).toBe(tenant.id)
  })

  it('an unknown tenant gets no key', async () => {
    const tenants = newTenants()
    const { apiKey } = await tenants.create({ name: 'a' })
    expect(await tenants.regenerateKey('tn_missing', apiKey)).toBeNull()
    expect(await tenants.byApiKey(apiKey)).not.toBeNull()
  })
})

describe('tenant settings', () => {
  it('require_lease_token: set at creation, changed by update, null for tenants that predate it', async () => {
    const tenants = newTenants()
    const strict = await tenants.create({ name: 's', requireLeaseToken: true })
    expect((await tenants.get(strict.tenant.id))?.requireLeaseToken).toBe(true)
    const legacy = await tenants.create({ name: 'l' })
    expect((await tenants.get(legacy.tenant.id))?.requireLeaseToken).toBeNull()

    expect((await tenants.update(strict.tenant.id, { requireLeaseToken: false }))?.requireLeaseToken).toBe(
      false,
    )
    expect((await tenants.byApiKey(strict.apiKey))?.requireLeaseToken).toBe(false)
    // An empty change changes nothing; the other tenant is untouched.
    expect((await tenants.update(strict.tenant.id, {}))?.requireLeaseToken).toBe(false)
    expect((await tenants.get(legacy.tenant.id))?.requireLeaseToken).toBeNull()
    // An unknown tenant is not created by an update.
    expect(await tenants.update('tn_missing', { requireLeaseToken: true })).toBeNull()
    expect(await tenants.get('tn_missing')).toBeNull()
  })
})

import { describe, expect, it } from 'vitest'
import { ADMIN_KEY, makeApp, type TestApp } from './helpers.ts'

// Issue 11 §7: require_lease_token is a per-tenant setting (GET/PATCH /v1/auth/me);
// CUEKIT_REQUIRE_LEASE_TOKEN is the default for new tenants.

async function leased(t: TestApp, key = t.apiKey) {
  const call = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const r = await t.cuekit.app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify(body),
    })
    return { status: r.status, body: (await r.json()) as any }
  }
  expect((await call('/v1/executions', { task: 'strict' })).status).toBe(201)
  const claim = await call('/v1/executions/claim', { worker_id: 'w1', task: 'strict' })
  const id = claim.body.execution_id as string
  return { id, token: claim.body.executions[0].lease.token as string, call }
}

async function createTenant(t: TestApp): Promise<string> {
  const res = await t.cuekit.app.request('/v1/tenants', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    body: '{}',
  })
  return ((await res.json()) as { api_key: string }).api_key
}

describe('require_lease_token per tenant', () => {
  it('GET /v1/auth/me reads it; PATCH changes it for this tenant only', async () => {
    const t = await makeApp()
    expect((await t.json('GET', '/v1/auth/me')).body.require_lease_token).toBe(false)
    const patched = await t.json('PATCH', '/v1/auth/me', { require_lease_token: true })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ tenant_id: t.tenant.id, require_lease_token: true })
    expect((await t.json('GET', '/v1/auth/me')).body.require_lease_token).toBe(true)
    // Leaving the field out keeps it.
    expect((await t.json('PATCH', '/v1/auth/me', {})).body.require_lease_token).toBe(true)
    const other = await t.newTenant()
    const res = await t.cuekit.app.request('/v1/auth/me', {
      headers: { authorization: `Bearer ${other.apiKey}` },
    })
    expect(((await res.json()) as { require_lease_token: boolean }).require_lease_token).toBe(false)
  })

  it('PATCH refuses bad values and unknown fields with 422, and needs the key', async () => {
    const t = await makeApp()
    for (const body of [{ require_lease_token: 'yes' }, { require_lease_token: null }, { name: 'x' }]) {
      const r = await t.json('PATCH', '/v1/auth/me', body)
      expect(r.status, JSON.stringify(body)).toBe(422)
      expect(r.body.error.code).toBe('validation_error')
    }
    const anonymous = await t.cuekit.app.request('/v1/auth/me', {
      method: 'PATCH',
      body: '{"require_lease_token": true}',
    })
    expect(anonymous.status).toBe(401)
    expect((await t.json('GET', '/v1/auth/me')).body.require_lease_token).toBe(false)
  })

  it('heartbeat, outcome and release without lease_token: 422 when the tenant requires it', async () => {
    const t = await makeApp()
    await t.json('PATCH', '/v1/auth/me', { require_lease_token: true })
    const { id, token, call } = await leased(t)
    const worker = { 'x-worker-id': 'w1' }
    for (const [path, body] of [
      [`/v1/executions/${id}/heartbeat`, {}],
      [`/v1/executions/${id}/outcome`, { success: true }],
      [`/v1/executions/${id}/release`, {}],
    ] as const) {
      const r = await call(path, body, worker)
      expect(r.status, path).toBe(422)
      expect(r.body.error.code).toBe('lease_token_required')
    }
    expect((await call(`/v1/executions/${id}/heartbeat`, { lease_token: token })).status).toBe(200)
    expect((await call(`/v1/executions/${id}/outcome`, { lease_token: token, success: true })).status).toBe(
      200,
    )

    // Switched off again: a CueAPI worker's token-less report (checked by X-Worker-Id) is accepted.
    await t.json('PATCH', '/v1/auth/me', { require_lease_token: false })
    const second = await leased(t)
    const ok = await second.call(`/v1/executions/${second.id}/outcome`, { success: true }, worker)
    expect(ok.status).toBe(200)
  })

  it('CUEKIT_REQUIRE_LEASE_TOKEN is the default for new tenants, which can change it', async () => {
    const t = await makeApp({ requireLeaseToken: true })
    const key = await createTenant(t)
    const me = async () =>
      (
        (await (
          await t.cuekit.app.request('/v1/auth/me', { headers: { authorization: `Bearer ${key}` } })
        ).json()) as { require_lease_token: boolean }
      ).require_lease_token
    expect(await me()).toBe(true)
    const { id, call } = await leased(t, key)
    expect((await call(`/v1/executions/${id}/heartbeat`, {}, { 'x-worker-id': 'w1' })).status).toBe(422)
    await t.cuekit.app.request('/v1/auth/me', {
      method: 'PATCH',
      headers: { authorization: `Bearer ${key}` },
      body: '{"require_lease_token": false}',
    })
    expect(await me()).toBe(false)
    expect((await call(`/v1/executions/${id}/heartbeat`, {}, { 'x-worker-id': 'w1' })).status).toBe(200)
    // A tenant created with the default off keeps it off.
    const relaxed = await makeApp()
    const relaxedKey = await createTenant(relaxed)
    const res = await relaxed.cuekit.app.request('/v1/auth/me', {
      headers: { authorization: `Bearer ${relaxedKey}` },
    })
    expect(((await res.json()) as { require_lease_token: boolean }).require_lease_token).toBe(false)
  })
})

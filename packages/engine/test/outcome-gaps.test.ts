import { describe, expect, it } from 'vitest'
import { tenant } from './backend.ts'
import { cue, fire, lease, START, setup } from './outcome-kit.ts'

// Issue 12's remaining CueAPI gaps in the engine: a person's verdict against later evidence,
// evidence filters and oldest_claimed_at in the listing, missed_window alerts, live-claim.
// Runs on redis, memory, cluster.

describe("a person's verdict stands", () => {
  it('evidence after verify or verification-pending is recorded but decides nothing', async () => {
    const { engine } = setup()
    const c = await cue(engine, { verification: { mode: 'require_external_id' } })
    const reported = async () => {
      const id = await fire(engine, c.id)
      const l = await lease(engine, 'job')
      await engine.report(tenant, id, { lease_token: l.lease.token, success: true })
      return id
    }
    const approved = await reported()
    await engine.verificationPending(tenant, approved)
    await engine.verify(tenant, approved, { valid: true })
    expect((await engine.evidence(tenant, approved, { summary: 'notes' })).outcome_state).toBe(
      'verified_success',
    )
    const rejected = await reported()
    await engine.verificationPending(tenant, rejected)
    await engine.verify(tenant, rejected, { valid: false, reason: 'no' })
    expect((await engine.evidence(tenant, rejected, { external_id: 'x' })).outcome_state).toBe(
      'verification_failed',
    )
    expect((await engine.get(tenant, rejected)).outcome).toMatchObject({ external_id: 'x' })
    const pending = await reported()
    await engine.verificationPending(tenant, pending)
    expect((await engine.evidence(tenant, pending, { external_id: 'y' })).outcome_state).toBe(
      'verification_pending',
    )
    // The policy's own verdict is still decided again.
    const policy = await reported()
    expect((await engine.evidence(tenant, policy, { external_id: 'z' })).outcome_state).toBe(
      'verified_success',
    )
  })
})

describe('live-claim', () => {
  it('the first token wins and keeps its time; internal work is not found', async () => {
    const { engine, advance } = setup()
    const c = await cue(engine, {})
    const id = await fire(engine, c.id)
    const first = await engine.liveClaim(tenant, id, 'tok-1')
    expect(first).toEqual({
      attested: true,
      execution_id: id,
      live_claimed_at: new Date(START).toISOString(),
    })
    advance(5000)
    expect(await engine.liveClaim(tenant, id, 'tok-1')).toEqual(first)
    await expect(engine.liveClaim(tenant, id, 'tok-2')).rejects.toMatchObject({ code: 'already_attested' })
    await expect(engine.liveClaim(tenant, 'nope', 'tok-1')).rejects.toMatchObject({
      code: 'execution_not_found',
    })
    expect((await engine.get(tenant, id)).status).toBe('pending')
  })
})

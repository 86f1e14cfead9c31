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

describe('listing by evidence, and oldest_claimed_at', () => {
  it('has_evidence and result_type filter outcomes; evidence patched later counts', async () => {
    const { engine, advance } = setup()
    const c = await cue(engine, {})
    const run = async (evidence: Record<string, unknown> | undefined) => {
      const id = await fire(engine, c.id)
      const l = await lease(engine, 'job')
      await engine.report(tenant, id, {
        lease_token: l.lease.token,
        success: true,
        ...(evidence ? { evidence } : {}),
      })
      advance(1000)
      return id
    }
    const tweet = await run({ external_id: 't1', result_type: 'tweet' })
    const email = await run({ summary: 'sent', result_type: 'email' })
    const bare = await run(undefined)
    // A result_type that holds the record's separator and the flag letters is still exact.
    const odd = await run({ result_type: 'a\x1fv|e' })
    const pending = await fire(engine, c.id)
    const ids = async (q: Record<string, unknown>) =>
      (await engine.list(tenant, { limit: 100, ...q })).executions.map((e) => e.id).sort()
    expect(await ids({ has_evidence: true })).toEqual([tweet, email, odd].sort())
    expect(await ids({ has_evidence: false })).toEqual([bare, pending].sort())
    expect(await ids({ result_type: 'tweet' })).toEqual([tweet])
    expect(await ids({ result_type: 'a\x1fv|e' })).toEqual([odd])
    expect(await ids({ result_type: 'nothing' })).toEqual([])
    expect((await engine.list(tenant, { has_evidence: true, limit: 1 })).total).toBe(3)
    await engine.evidence(tenant, bare, { result_type: 'tweet' })
    expect(await ids({ result_type: 'tweet' })).toEqual([tweet, bare].sort())
    expect(await ids({ has_evidence: false })).toEqual([pending])
  })

  it('oldest_claimed_at: the whole filtered set, the live leases for delivering, else the pages read', async () => {
    const { engine, advance } = setup()
    const c = await cue(engine, {})
    const claimedAt: number[] = []
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      ids.push(await fire(engine, c.id))
      advance(1000)
    }
    // Claimed oldest-first: the first claim is the oldest execution's.
    for (let i = 0; i < 4; i++) {
      claimedAt.push(START + 4000 + i * 1000)
      await lease(engine, 'job')
      advance(1000)
    }
    const iso = (ms: number) => new Date(ms).toISOString()
    const all = await engine.list(tenant, { limit: 1 })
    // Unfiltered: over what this answer read (the newest execution only).
    expect(all.oldest_claimed_at).toBe(iso(claimedAt[3]!))
    expect((await engine.list(tenant, { limit: 1, offset: 2 })).oldest_claimed_at).toBe(iso(claimedAt[1]!))
    // delivering: from the lease index, the whole set.
    expect((await engine.list(tenant, { status: 'delivering', limit: 1 })).oldest_claimed_at).toBe(
      iso(claimedAt[0]!),
    )
    // A scanned filter reads (and counts) the whole filtered set.
    expect((await engine.list(tenant, { cue_id: c.id, limit: 1 })).oldest_claimed_at).toBe(iso(claimedAt[0]!))
    expect((await engine.list(tenant, { worker_id: 'nobody', limit: 1 })).oldest_claimed_at).toBeNull()
    const fresh = await fire(engine, c.id)
    expect((await engine.list(tenant, { status: 'pending', limit: 5 })).executions.map((e) => e.id)).toEqual([
      fresh,
    ])
    expect((await engine.list(tenant, { status: 'pending', limit: 5 })).oldest_claimed_at).toBeNull()
    expect(ids).toHaveLength(4)
  })
})

describe('missed_window alerts', () => {
  it('a recurring cue without a success for multiplier × its interval raises one, per window', async () => {
    const { engine, advance, pass } = setup()
    const HOUR = 3_600_000
    const c = await cue(engine, { schedule: { type: 'recurring', cron: '0 * * * *' } })
    const missed = async () =>
      (await engine.alerts(tenant, { alert_type: 'missed_window', limit: 20, offset: 0 })).alerts
    // 10:00 now; the first tick is 11:00. It fires and succeeds 30 s later.
    advance(HOUR)
    expect((await pass()).fired).toBe(1)
    advance(30_000)
    const l = await lease(engine, 'job')
    await engine.report(tenant, l.execution_id, { lease_token: l.lease.token, success: true })
    // 12:00 and 13:00 fire, nobody claims: the window (2 × 1 h) runs from the success at 11:00:30.
    advance(HOUR - 30_000)
    await pass()
    advance(HOUR)
    await pass()
    expect(await missed()).toEqual([])
    advance(31_000)
    await pass()
    const [alert] = await missed()
    expect(alert).toMatchObject({
      alert_type: 'missed_window',
      cue_id: c.id,
      execution_id: null,
      metadata: { window_seconds: 7200 },
    })
    // Still no success: the next window raises another.
    advance(2 * HOUR)
    await pass()
    expect(await missed()).toHaveLength(2)
    // A paused cue is not watched.
    await engine.cues.update(tenant, c.id, async (cur) => ({ config: cur.config, status: 'paused' }))
    advance(2 * HOUR + 1000)
    await pass()
    expect(await missed()).toHaveLength(2)
  })

  it('the multiplier and the longest gap of the cron make the window; one-time cues have none', async () => {
    const { engine, advance, pass } = setup()
    const HOUR = 3_600_000
    // Weekdays at 09:00 (START is a Monday): the longest gap is the weekend's 72 h; × 1.
    const c = await cue(engine, {
      schedule: { type: 'recurring', cron: '0 9 * * 1-5' },
      alerts: { missed_window_multiplier: 1 },
    })
    advance(23 * HOUR)
    expect((await pass()).fired).toBe(1)
    advance(72 * HOUR - 1000)
    await pass()
    expect((await engine.alerts(tenant, { alert_type: 'missed_window', limit: 20, offset: 0 })).total).toBe(0)
    advance(2000)
    await pass()
    const { alerts } = await engine.alerts(tenant, { alert_type: 'missed_window', limit: 20, offset: 0 })
    expect(alerts.map((a) => [a.cue_id, a.metadata])).toEqual([[c.id, { window_seconds: 72 * 3600 }]])
    const once = await cue(engine, {
      schedule: { type: 'once', at: new Date(START + 100 * HOUR).toISOString() },
    })
    advance(200 * HOUR)
    await pass()
    const after = await engine.alerts(tenant, { alert_type: 'missed_window', limit: 20, offset: 0 })
    expect(after.alerts.filter((a) => a.cue_id === once.id)).toEqual([])
  })
})

import { Cues, Engine, firstFire, nextTick, planTicks } from '@cuekit/engine'
import { CreateCueRequest, WEBHOOK_TASK } from '@cuekit/protocol'
import { describe, expect, it } from 'vitest'
import { newEngine, tenant } from './backend.ts'

// Cues: storage, the scheduler's exactly-once ticks and catch-up, one-time cues, pause/resume,
// and DST in a real zone. The scheduler runs under a test clock (EngineOptions.clock), so hours
// and days pass in microseconds. Runs as `engine:redis` and `engine:memory`.

const NY = 'America/New_York'
const iso = (ms: number) => new Date(ms).toISOString()
const at = (s: string) => Date.parse(s)

function config(body: Record<string, unknown>) {
  return Cues.configFromCreate(
    CreateCueRequest.parse({
      name: `c${Math.random().toString(36).slice(2, 8)}`,
      transport: 'worker',
      ...body,
    }),
  )
}

/** An engine whose store clock the test moves. */
function clocked(start: string) {
  let now = at(start)
  const engine = newEngine({ clock: () => now })
  return {
    engine,
    set: (t: string | number) => {
      now = typeof t === 'number' ? t : at(t)
    },
    tick: () => engine.maintainPartition({ tenantId: tenant.id, partition: 0 }),
  }
}

async function firedTimes(engine: Engine, cueId: string): Promise<string[]> {
  const d = await engine.cues.get(tenant, cueId, { limit: 100, offset: 0 })
  return d.executions.map((e) => e.scheduled_for).sort()
}

describe('cron next-fire computation across DST (America/New_York, croner)', () => {
  it('spring forward: a fixed-time job in the gap runs at the first valid time; interval jobs skip the gap', () => {
    // 2026-03-08 02:00 EST becomes 03:00 EDT: 02:30 does not exist that day.
    const daily = '30 2 * * *'
    const first = nextTick(daily, NY, at('2026-03-07T12:00:00Z'))!
    expect(iso(first)).toBe('2026-03-08T07:00:00.000Z') // 03:00 EDT
    expect(iso(nextTick(daily, NY, first)!)).toBe('2026-03-09T06:30:00.000Z') // 02:30 EDT
    // Hourly: 01:00 EST, then 03:00 EDT: one hour of wall clock, and no 02:00.
    const a = nextTick('0 * * * *', NY, at('2026-03-08T05:30:00Z'))!
    const b = nextTick('0 * * * *', NY, a)!
    expect([iso(a), iso(b)]).toEqual(['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z'])
  })

  it('fall back: a fixed-time job runs once in the repeated hour; interval jobs run on both', () => {
    // 2026-11-01 02:00 EDT becomes 01:00 EST: 01:00-01:59 happens twice.
    const daily = '30 1 * * *'
    const first = nextTick(daily, NY, at('2026-10-31T12:00:00Z'))!
    expect(iso(first)).toBe('2026-11-01T05:30:00.000Z') // 01:30 EDT, the first occurrence only
    expect(iso(nextTick(daily, NY, first)!)).toBe('2026-11-02T06:30:00.000Z')
    const ticks: string[] = []
    let t = at('2026-11-01T04:45:00Z')
    for (let i = 0; i < 5; i++) {
      t = nextTick('*/30 * * * *', NY, t)!
      ticks.push(iso(t))
    }
    expect(ticks).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST
      '2026-11-01T06:30:00.000Z', // 01:30 EST
      '2026-11-01T07:00:00.000Z', // 02:00 EST
    ])
  })

  it('refuses bad cron, unknown zones and past one-time schedules with clear codes', () => {
    const now = Date.now()
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        return [(e as { code: string }).code, (e as Error).message]
      }
      return null
    }
    expect(code(() => firstFire({ type: 'recurring', cron: 'every day', timezone: 'UTC' }, now))?.[0]).toBe(
      'invalid_schedule',
    )
    expect(
      code(() => firstFire({ type: 'recurring', cron: '0 0 30 2 *', timezone: 'UTC' }, now))?.[1],
    ).toMatch(/never fires/)
    expect(
      code(() => firstFire({ type: 'recurring', cron: '* * * * *', timezone: 'Mars/Olympus' }, now))?.[0],
    ).toBe('invalid_timezone')
    expect(code(() => firstFire({ type: 'recurring', timezone: 'UTC' }, now))?.[0]).toBe('invalid_schedule')
    expect(code(() => firstFire({ type: 'once', at: iso(now - 1000), timezone: 'UTC' }, now))?.[1]).toMatch(
      /future/,
    )
    expect(firstFire({ type: 'once', at: iso(now + 5000), timezone: 'UTC' }, now)).toBe(now + 5000)
  })

  it('plans missed ticks by policy: skip, run once, replay (capped at 100)', () => {
    const spec = { type: 'recurring' as const, cron: '* * * * *', timezone: 'UTC' }
    const nr = at('2026-01-01T00:00:00Z')
    const now = at('2026-01-01T03:00:30Z') // three hours of downtime
    const skip = planTicks(spec, 'skip_missed', nr, now, 60_000)
    expect(skip.ticks.map(iso)).toEqual(['2026-01-01T03:00:00.000Z']) // the one still on time
    expect(iso(skip.next!)).toBe('2026-01-01T03:01:00.000Z')
    const once = planTicks(spec, 'run_once_if_missed', nr, now, 60_000)
    expect(once.ticks.map(iso)).toEqual(['2026-01-01T02:59:00.000Z', '2026-01-01T03:00:00.000Z'])
    const replay = planTicks(spec, 'replay_all_missed', nr, now, 60_000)
    expect(replay.ticks).toHaveLength(101)
    expect(iso(replay.ticks[0]!)).toBe('2026-01-01T01:20:00.000Z')
    expect(replay.ticks).toEqual([...replay.ticks].sort((a, b) => a - b))
  })
})

describe('cue storage', () => {
  it('creates, reads, lists, edits and deletes; names are unique per tenant', async () => {
    const engine = newEngine()
    const rec = await engine.cues.create(
      tenant,
      config({
        name: 'nightly',
        schedule: { type: 'recurring', cron: '0 3 * * *', timezone: NY },
        payload: { task: 'r' },
      }),
    )
    expect(rec).toMatchObject({
      name: 'nightly',
      status: 'active',
      transport: 'worker',
      task: 'r',
      schedule: { type: 'recurring', cron: '0 3 * * *', timezone: NY },
      callback: { url: null, method: 'POST', headers: {} },
      retry: { max_attempts: 3, backoff_minutes: [1, 5, 15], backoff_seconds: [60, 300, 900] },
      catch_up: 'run_once_if_missed',
      run_count: 0,
      fired_count: 0,
      last_run: null,
    })
    expect(rec.id).toMatch(/^cue_[a-z0-9]{12}$/)
    expect(rec.schedule).not.toHaveProperty('at')
    expect(Date.parse(rec.next_run!)).toBeGreaterThan(Date.now())
    await expect(
      engine.cues.create(
        tenant,
        config({ name: 'nightly', schedule: { type: 'recurring', cron: '* * * * *' } }),
      ),
    ).rejects.toMatchObject({ code: 'duplicate_cue_name' })
    await engine.cues.create(
      tenant,
      config({ name: 'second', schedule: { type: 'recurring', cron: '* * * * *' } }),
    )
    const all = await engine.cues.list(tenant, { limit: 10, offset: 0 })
    expect(all.total).toBe(2)
    expect(all.cues.map((c) => c.name)).toEqual(['second', 'nightly'])
    const paused = await engine.cues.update(tenant, rec.id, async (cur) => ({
      config: cur.config,
      status: 'paused',
    }))
    expect(paused.status).toBe('paused')
    expect(paused.next_run).toBeNull()
    expect(
      (await engine.cues.list(tenant, { status: 'paused', limit: 10, offset: 0 })).cues.map((c) => c.id),
    ).toEqual([rec.id])
    await expect(
      engine.cues.update(tenant, rec.id, async (cur) => ({
        config: { ...cur.config, name: 'second' },
        status: 'active',
      })),
    ).rejects.toMatchObject({ code: 'duplicate_cue_name' })
    const renamed = await engine.cues.update(tenant, rec.id, async (cur) => ({
      config: { ...cur.config, name: 'renamed' },
      status: cur.status,
    }))
    expect(renamed.name).toBe('renamed')
    // The old name is free again.
    await engine.cues.create(
      tenant,
      config({ name: 'nightly', schedule: { type: 'recurring', cron: '* * * * *' } }),
    )
    await engine.cues.delete(tenant, rec.id)
    await expect(engine.cues.read(tenant, rec.id)).rejects.toMatchObject({ code: 'cue_not_found' })
    await expect(engine.cues.delete(tenant, rec.id)).rejects.toMatchObject({ code: 'cue_not_found' })
    // Another tenant sees none of it.
    expect((await engine.cues.list({ id: 'tn_other', partitions: 1 }, { limit: 10, offset: 0 })).total).toBe(
      0,
    )
  })
})

describe('cue edits', () => {
  it('concurrent edits both land: the one that lost the version race is re-applied to the new state', async () => {
    const engine = newEngine()
    const cue = await engine.cues.create(
      tenant,
      config({ schedule: { type: 'recurring', cron: '0 0 * * *' } }),
    )
    await Promise.all([
      engine.cues.update(tenant, cue.id, async (cur) => ({
        config: { ...cur.config, payload: { ...cur.config.payload, a: 1 } },
        status: cur.status,
      })),
      engine.cues.update(tenant, cue.id, async (cur) => ({
        config: { ...cur.config, payload: { ...cur.config.payload, b: 2 } },
        status: cur.status,
      })),
    ])
    const after = await engine.cues.read(tenant, cue.id)
    expect(after.config.payload).toEqual({ a: 1, b: 2 })
    expect(after.version).toBe('3')
    // An edit that is not a schedule change or a resume keeps the next fire time.
    expect(after.record.next_run).toBe(cue.next_run)
  })
})

describe('the scheduler', () => {
  it('fires each tick once, as a new execution with the tick as scheduled_for, whoever runs it', async () => {
    const c = clocked('2026-01-01T00:00:00.500Z')
    const rec = await c.engine.cues.create(
      tenant,
      config({ schedule: { type: 'recurring', cron: '* * * * * *' }, payload: { task: 'tick', n: 1 } }),
    )
    expect(rec.next_run).toBe('2026-01-01T00:00:01.000Z')
    // A second engine on the same store: two schedulers racing on every pass.
    const other = new Engine({
      redis: c.engine.redis,
      prefix: c.engine.keys.prefix,
      clock: () => c.engine.storeNow(),
    })
    for (const t of ['2026-01-01T00:00:01.100Z', '2026-01-01T00:00:02.100Z', '2026-01-01T00:00:03.100Z']) {
      c.set(t)
      await Promise.all([
        c.tick(),
        c.tick(),
        other.maintainPartition({ tenantId: tenant.id, partition: 0 }),
        other.maintainPartition({ tenantId: tenant.id, partition: 0 }),
      ])
    }
    expect(await firedTimes(c.engine, rec.id)).toEqual([
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
      '2026-01-01T00:00:03.000Z',
    ])
    const detail = await c.engine.cues.get(tenant, rec.id, { limit: 10, offset: 0 })
    expect(detail.fired_count).toBe(3)
    expect(detail.next_run).toBe('2026-01-01T00:00:04.000Z')
    const ids = new Set(detail.executions.map((e) => e.execution_id))
    expect(ids.size).toBe(3)
    expect(detail.executions[0]).toMatchObject({
      cue_id: rec.id,
      cue_name: rec.name,
      task: 'tick',
      payload: { task: 'tick', n: 1 },
      status: 'pending',
      triggered_by: 'scheduled',
      max_attempts: 3,
      backoff_seconds: [60, 300, 900],
    })
    // The worker claims them like any execution; its outcome counts as a run of the cue.
    const [claimed] = await c.engine.claim(tenant, { worker_id: 'w', task: 'tick', lease_seconds: 60 })
    expect(claimed!.cue_id).toBe(rec.id)
    await c.engine.report(tenant, claimed!.execution_id, { success: true, lease_token: claimed!.lease.token })
    const after = await c.engine.cues.read(tenant, rec.id)
    expect(after.record.run_count).toBe(1)
    expect(after.record.last_run).toBe('2026-01-01T00:00:03.100Z')
  })

  it('after downtime, follows the catch-up policy', async () => {
    const c = clocked('2026-01-01T00:00:30Z')
    const make = (catch_up: string) =>
      c.engine.cues.create(tenant, config({ schedule: { type: 'recurring', cron: '* * * * *' }, catch_up }))
    const skip = await make('skip_missed')
    const once = await make('run_once_if_missed')
    const replay = await make('replay_all_missed')
    c.set('2026-01-01T00:10:30Z') // ten minutes down
    await c.tick()
    expect(await firedTimes(c.engine, skip.id)).toEqual(['2026-01-01T00:10:00.000Z'])
    expect(await firedTimes(c.engine, once.id)).toEqual([
      '2026-01-01T00:09:00.000Z',
      '2026-01-01T00:10:00.000Z',
    ])
    expect(await firedTimes(c.engine, replay.id)).toHaveLength(10)
    for (const cue of [skip, once, replay]) {
      expect((await c.engine.cues.read(tenant, cue.id)).record.next_run).toBe('2026-01-01T00:11:00.000Z')
    }
    // Nothing fires twice when the pass runs again.
    await c.tick()
    expect(await firedTimes(c.engine, replay.id)).toHaveLength(10)
  })

  it('a one-time cue fires once at `at` and ends completed, or failed when its execution fails', async () => {
    const c = clocked('2026-01-01T00:00:00Z')
    const ok = await c.engine.cues.create(
      tenant,
      config({ schedule: { type: 'once', at: '2026-01-01T00:05:00Z' }, payload: { task: 'once' } }),
    )
    const bad = await c.engine.cues.create(
      tenant,
      config({
        schedule: { type: 'once', at: '2026-01-01T00:05:00Z' },
        payload: { task: 'once' },
        retry: { max_attempts: 1 },
      }),
    )
    expect(ok.next_run).toBe('2026-01-01T00:05:00.000Z')
    expect(ok.schedule).toEqual({ type: 'once', at: '2026-01-01T00:05:00.000Z', timezone: 'UTC' })
    c.set('2026-01-01T00:05:00.200Z')
    await c.tick()
    await c.tick()
    for (const cue of [ok, bad]) {
      const d = await c.engine.cues.get(tenant, cue.id, { limit: 10, offset: 0 })
      expect(d.executions).toHaveLength(1)
      expect(d.next_run).toBeNull()
      expect(d.status).toBe('active')
    }
    const claimed = await c.engine.claim(tenant, { worker_id: 'w', task: 'once', max: 2, lease_seconds: 60 })
    expect(claimed).toHaveLength(2)
    for (const e of claimed) {
      await c.engine.report(tenant, e.execution_id, {
        success: e.cue_id === ok.id,
        lease_token: e.lease.token,
      })
    }
    expect((await c.engine.cues.read(tenant, ok.id)).status).toBe('completed')
    expect((await c.engine.cues.read(tenant, bad.id)).status).toBe('failed')
  })

  it('a one-time cue whose time was missed under skip_missed ends failed without firing', async () => {
    const c = clocked('2026-01-01T00:00:00Z')
    const cue = await c.engine.cues.create(
      tenant,
      config({ schedule: { type: 'once', at: '2026-01-01T00:05:00Z' }, catch_up: 'skip_missed' }),
    )
    c.set('2026-01-01T02:00:00Z')
    await c.tick()
    const d = await c.engine.cues.get(tenant, cue.id, { limit: 10, offset: 0 })
    expect(d.executions).toHaveLength(0)
    expect(d.status).toBe('failed')
  })

  it('pause stops fires; resume continues from now without a burst', async () => {
    const c = clocked('2026-01-01T00:00:00.500Z')
    const cue = await c.engine.cues.create(
      tenant,
      config({ schedule: { type: 'recurring', cron: '* * * * * *' }, catch_up: 'replay_all_missed' }),
    )
    c.set('2026-01-01T00:00:01.100Z')
    await c.tick()
    await c.engine.cues.update(tenant, cue.id, async (cur) => ({ config: cur.config, status: 'paused' }))
    c.set('2026-01-01T00:00:30.100Z')
    await c.tick()
    expect(await firedTimes(c.engine, cue.id)).toEqual(['2026-01-01T00:00:01.000Z'])
    const resumed = await c.engine.cues.update(tenant, cue.id, async (cur) => ({
      config: cur.config,
      status: 'active',
    }))
    expect(resumed.next_run).toBe('2026-01-01T00:00:31.000Z')
    c.set('2026-01-01T00:00:31.100Z')
    await c.tick()
    // Ticks inside the pause were skipped deliberately, not missed: none of them fires.
    expect(await firedTimes(c.engine, cue.id)).toEqual([
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:31.000Z',
    ])
  })

  it('fires across DST in America/New_York at the right instants (scheduler level)', async () => {
    const c = clocked('2026-03-07T12:00:00Z')
    const spring = await c.engine.cues.create(
      tenant,
      config({ schedule: { type: 'recurring', cron: '30 2 * * *', timezone: NY } }),
    )
    expect(spring.next_run).toBe('2026-03-08T07:00:00.000Z')
    c.set('2026-03-08T07:00:00.300Z')
    await c.tick()
    expect(await firedTimes(c.engine, spring.id)).toEqual(['2026-03-08T07:00:00.000Z'])
    expect((await c.engine.cues.read(tenant, spring.id)).record.next_run).toBe('2026-03-09T06:30:00.000Z')

    c.set('2026-10-31T12:00:00Z')
    const fall = await c.engine.cues.create(
      tenant,
      config({ schedule: { type: 'recurring', cron: '30 1 * * *', timezone: NY }, catch_up: 'skip_missed' }),
    )
    c.set('2026-11-01T05:30:00.300Z') // 01:30 EDT
    await c.tick()
    c.set('2026-11-01T06:30:00.300Z') // 01:30 EST: the same wall-clock time again
    await c.tick()
    expect(await firedTimes(c.engine, fall.id)).toEqual(['2026-11-01T05:30:00.000Z'])
    expect((await c.engine.cues.read(tenant, fall.id)).record.next_run).toBe('2026-11-02T06:30:00.000Z')
  })

  it('manual fire: a new execution with the merged payload, on a paused cue too; idempotency key dedupes', async () => {
    const engine = newEngine()
    const cue = await engine.cues.create(
      tenant,
      config({ schedule: { type: 'recurring', cron: '0 0 1 1 *' }, payload: { task: 'm', a: 1, b: 1 } }),
    )
    const paused = await engine.cues.read(tenant, cue.id)
    const e = await engine.cues.fire(tenant, paused, { payload_override: { b: 2 } })
    expect(e).toMatchObject({
      cue_id: cue.id,
      task: 'm',
      payload: { task: 'm', a: 1, b: 2 },
      triggered_by: 'manual_fire',
    })
    expect(e.id).toBe(e.execution_id)
    const r = await engine.cues.fire(tenant, paused, {
      payload_override: { task: 'other' },
      merge_strategy: 'replace',
    })
    expect(r).toMatchObject({ task: 'other', payload: { task: 'other' } })
    const k1 = await engine.cues.fire(tenant, paused, { idempotency_key: 'k' })
    const k2 = await engine.cues.fire(tenant, paused, { idempotency_key: 'k' })
    expect(k2.execution_id).toBe(k1.execution_id)
    const later = await engine.cues.fire(tenant, paused, { send_at: iso(Date.now() + 3_600_000) })
    expect(later.status).toBe('scheduled')
    // fired_count counts the scheduler's fires, as CueAPI does; the recent list shows all of them.
    expect((await engine.cues.read(tenant, cue.id)).record.fired_count).toBe(0)
    expect((await engine.cues.get(tenant, cue.id, { limit: 10, offset: 0 })).execution_total).toBe(4)
  })

  it('webhook executions wait under the internal task, out of every worker claim and listing', async () => {
    const engine = newEngine()
    const cue = await engine.cues.create(
      tenant,
      Cues.configFromCreate(
        CreateCueRequest.parse({
          name: 'hook',
          schedule: { type: 'recurring', cron: '0 0 1 1 *' },
          callback: { url: 'https://example.com/hook' },
          delivery: { timeout_seconds: 5 },
        }),
      ),
    )
    expect(cue.transport).toBe('webhook')
    const stored = await engine.cues.read(tenant, cue.id)
    const e = await engine.cues.fire(tenant, stored, {})
    expect(e.task).toBe(WEBHOOK_TASK)
    await engine.enqueue(tenant, [{ task: 'plain' }])
    const any = await engine.claim(tenant, { worker_id: 'w', max: 10 })
    expect(any.map((x) => x.task)).toEqual(['plain'])
    await expect(engine.claimById(tenant, e.execution_id, { worker_id: 'w' })).rejects.toMatchObject({
      code: 'claim_failed',
    })
    expect((await engine.claimable(tenant)).executions).toHaveLength(0)
    // Only a claim that names the task gets it, with the cue's timeout plus the margin as lease.
    const [hook] = await engine.claim(tenant, { worker_id: 'dispatcher', task: WEBHOOK_TASK })
    expect(hook!.execution_id).toBe(e.execution_id)
    expect(hook!.lease.lease_seconds).toBe(15)
  })
})

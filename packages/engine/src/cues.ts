import {
  type CatchUpPolicy,
  type CreateCueRequest,
  CUE_LIMITS,
  type CueDelivery,
  type CueDetail,
  type CueMethod,
  type CueOnFailure,
  type CueRecord,
  type CueStatus,
  type CueTransport,
  type CueVerification,
  type ExecutionRecord,
  LIMITS,
  type ListCuesResponse,
  TaskName,
  type UpdateCueRequest,
  WEBHOOK_TASK,
} from '@cuekit/protocol'
import { customAlphabet } from 'nanoid'
import type { EngineCore, TenantRef } from './core.ts'
import { fieldsOf, head, int, iso, isoOrNull, type Row, rows } from './decode.ts'
import { EngineError } from './errors.ts'
import { newExecutionIdIn } from './ids.ts'
import type { PartitionRef } from './keys.ts'
import {
  CUE_CREATE_ARGS,
  CUE_CREATE_REPLY,
  CUE_DELETE_ARGS,
  CUE_DUE_ARGS,
  CUE_DUE_REPLY,
  CUE_FIELDS,
  CUE_FIRE_ARGS,
  CUE_FIRE_REPLY,
  CUE_GET_ARGS,
  CUE_GET_REPLY,
  CUE_ITEM,
  CUE_LIST_ARGS,
  CUE_LIST_REPLY,
  CUE_TICK_ARGS,
  CUE_TICK_REPLY,
  CUE_UPDATE_ARGS,
  CUE_UPDATE_REPLY,
  DUE_CUE,
  LISTED,
} from './layouts/index.ts'
import type { Reads } from './reads.ts'
import { DEFAULT_MISSED_GRACE_MS, firstFire, nextTick, planTicks, type ScheduleSpec } from './schedule.ts'
import { args } from './scripts.ts'

/** CueAPI's cue ids: `cue_` and 12 characters of [a-z0-9]. */
export const newCueId = () => `cue_${customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 12)()}`

/** A cue's configuration as a client set it, normalised (defaults filled in). Stored as JSON. */
export interface CueConfig {
  name: string
  description: string | null
  schedule: ScheduleSpec
  transport: CueTransport
  callback: { url: string | null; method: CueMethod; headers: Record<string, string> }
  payload: Record<string, unknown>
  task: string | null
  retry: {
    max_attempts: number
    backoff_minutes?: number[] | undefined
    backoff_seconds?: number[] | undefined
  }
  catch_up: CatchUpPolicy
  delivery: CueDelivery
  alerts: Record<string, unknown> | null
  on_failure: CueOnFailure | null
  verification: CueVerification | null
  on_success_fire: string | null
  require_payload_override: boolean
  required_payload_keys: string[]
}

/** CueAPI's default alerts.missed_window_multiplier. */
const DEFAULT_MISSED_WINDOW_MULTIPLIER = 2
/** How many upcoming gaps of a cron the missed_window interval is the longest of. */
const MISSED_WINDOW_TICKS = 10

/** A stored cue: its configuration and the scheduler's state. */
export interface StoredCue {
  id: string
  version: string
  status: CueStatus
  config: CueConfig
  record: CueRecord
}

export interface CueOptions {
  /** Lease of a webhook execution beyond the cue's timeout, so a slow answer still lands. */
  webhookLeaseMarginSeconds?: number
  /** How late a tick may fire and still count as on time (see planTicks). */
  missedGraceMs?: number
}

export interface FireInput {
  payload_override?: Record<string, unknown> | null | undefined
  merge_strategy?: 'merge' | 'replace' | undefined
  send_at?: string | null | undefined
  idempotency_key?: string | null | undefined
}

const DUE_BATCH = 200

/** CueAPI's on_failure when a cue sets none: mail the tenant, no webhook, keep running. */
const DEFAULT_ON_FAILURE = { email: true, webhook: null, pause: false } as const
const UPDATE_TRIES = 5

/** Cue storage and the scheduler. Cues live in partition 0 of their tenant (see keys.ts). */
export class Cues {
  private readonly leaseMarginSeconds: number
  private readonly graceMs: number

  constructor(
    private readonly core: EngineCore,
    private readonly reads: Reads,
    options: CueOptions = {},
  ) {
    this.leaseMarginSeconds = options.webhookLeaseMarginSeconds ?? 10
    this.graceMs = options.missedGraceMs ?? DEFAULT_MISSED_GRACE_MS
  }

  private home(tenant: TenantRef): PartitionRef {
    return { tenantId: tenant.id, partition: 0 }
  }

  /** The create body with CueAPI's defaults filled in. */
  static configFromCreate(body: CreateCueRequest): CueConfig {
    return {
      name: body.name,
      description: body.description ?? null,
      schedule: scheduleOf(body.schedule),
      transport: body.transport,
      callback: callbackOf(body.transport, body.callback),
      payload: body.payload,
      task: body.task ?? null,
      retry: retryOf(body.retry),
      catch_up: body.catch_up,
      delivery: body.delivery ?? {
        timeout_seconds: CUE_LIMITS.defaultTimeoutSeconds,
        outcome_deadline_seconds: 300,
      },
      alerts: body.alerts ?? null,
      on_failure: body.on_failure ?? null,
      verification: body.verification ?? null,
      on_success_fire: body.on_success_fire ?? null,
      require_payload_override: body.require_payload_override ?? false,
      required_payload_keys: body.required_payload_keys ?? [],
    }
  }

  /** A PATCH applied to a configuration: what is sent replaces, what is omitted stays. */
  static applyPatch(current: CueConfig, patch: UpdateCueRequest): CueConfig {
    const transport = patch.transport ?? current.transport
    const next: CueConfig = { ...current, transport }
    if (patch.name !== undefined) next.name = patch.name
    if (patch.description !== undefined) next.description = patch.description ?? null
    if (patch.schedule !== undefined) next.schedule = scheduleOf(patch.schedule)
    // CueAPI: callback replaces the stored one (omitted method and headers reset to POST and {}).
    if (patch.callback !== undefined) next.callback = callbackOf(transport, patch.callback)
    else if (transport === 'worker') next.callback = callbackOf(transport, null)
    if (patch.payload !== undefined) next.payload = patch.payload
    if (patch.task !== undefined) next.task = patch.task ?? null
    if (patch.retry !== undefined) next.retry = retryOf(patch.retry)
    if (patch.catch_up !== undefined) next.catch_up = patch.catch_up
    if (patch.delivery !== undefined)
      next.delivery = patch.delivery ?? {
        timeout_seconds: CUE_LIMITS.defaultTimeoutSeconds,
        outcome_deadline_seconds: 300,
      }
    if (patch.alerts !== undefined) next.alerts = patch.alerts ?? null
    if (patch.on_failure !== undefined) next.on_failure = patch.on_failure ?? null
    if (patch.verification !== undefined) next.verification = patch.verification ?? null
    if (patch.on_success_fire !== undefined) next.on_success_fire = patch.on_success_fire ?? null
    if (patch.require_payload_override !== undefined)
      next.require_payload_override = patch.require_payload_override
    if (patch.required_payload_keys !== undefined) next.required_payload_keys = patch.required_payload_keys
    return next
  }

  /** The store's clock now (Redis's, estimated; a test clock when the engine has one). */
  now(): number {
    return this.core.storeNow()
  }

  async create(tenant: TenantRef, config: CueConfig): Promise<CueRecord> {
    checkConfig(config)
    const id = newCueId()
    await this.checkChain(tenant, id, config.on_success_fire)
    const nr = firstFire(config.schedule, this.now())
    const home = this.home(tenant)
    const reply = await this.core.run(
      'cue_create',
      home,
      args(CUE_CREATE_ARGS, {
        id,
        name: config.name,
        type: config.schedule.type,
        transport: config.transport,
        ...this.executionFields(config),
        next_run: nr,
        config: JSON.stringify(config),
        partitions: tenant.partitions,
      }),
    )
    this.core.due(home, head(reply, CUE_CREATE_REPLY).str('next_due'))
    return (await this.read(tenant, id)).record
  }

  /**
   * Task, payload, max attempts, backoff and lease of the executions this cue fires, and the
   * outcome policy the scripts apply to them (docs/outcomes.md).
   */
  private executionFields(config: CueConfig) {
    const onFailure = config.on_failure ?? DEFAULT_ON_FAILURE
    const threshold = Number(config.alerts?.consecutive_failures)
    const flag = (on: boolean | null | undefined) => (on ? '1' : '')
    return {
      task: taskOf(config, config.payload),
      payload: JSON.stringify(config.payload),
      max_attempts: config.retry.max_attempts,
      backoff: backoffSecondsOf(config.retry).join(','),
      lease_seconds:
        config.transport === 'webhook' ? config.delivery.timeout_seconds + this.leaseMarginSeconds : '',
      verification: config.verification?.mode === 'none' ? '' : (config.verification?.mode ?? ''),
      outcome_deadline: config.delivery.outcome_deadline_seconds,
      alert_threshold: Number.isInteger(threshold) && threshold > 0 ? threshold : '',
      missed_window: this.missedWindowMs(config),
      on_failure_pause: flag(onFailure.pause),
      on_failure_webhook: flag(Boolean(onFailure.webhook)),
      on_failure_email: flag(onFailure.email),
      on_success_fire: config.on_success_fire ?? '',
    }
  }

  /**
   * CueAPI's missed_window: no success within missed_window_multiplier (default 2) × the schedule's
   * interval. A cron's gaps can differ (weekdays only, month ends): the interval is the longest gap
   * among its next ticks, so a regular quiet spell is never taken for a miss (docs/outcomes.md).
   */
  private missedWindowMs(config: CueConfig): number | '' {
    const { type, cron, timezone } = config.schedule
    if (type !== 'recurring' || !cron) return ''
    const multiplier = Number(config.alerts?.missed_window_multiplier ?? DEFAULT_MISSED_WINDOW_MULTIPLIER)
    let at = nextTick(cron, timezone, this.now())
    let interval = 0
    for (let i = 0; at !== null && i < MISSED_WINDOW_TICKS; i++) {
      const next = nextTick(cron, timezone, at)
      if (next === null) break
      interval = Math.max(interval, next - at)
      at = next
    }
    return interval > 0 ? multiplier * interval : ''
  }

  /**
   * A cue may fire another when it succeeds, but never one that leads back to it: the chain from
   * `target` is followed to its end (a missing cue is refused too).
   */
  private async checkChain(tenant: TenantRef, id: string | null, target: string | null): Promise<void> {
    const seen = new Set<string>()
    for (let next = target; next; ) {
      if (next === id || seen.has(next)) throw new EngineError('chain_cycle')
      seen.add(next)
      let cue: StoredCue
      try {
        cue = await this.read(tenant, next)
      } catch (error) {
        if (error instanceof EngineError && error.code === 'cue_not_found') {
          throw new EngineError('validation_error', `on_success_fire: no cue ${next}.`)
        }
        throw error
      }
      next = cue.config.on_success_fire
    }
  }

  async read(tenant: TenantRef, id: string): Promise<StoredCue> {
    const reply = await this.core.run(
      'cue_get',
      this.home(tenant),
      args(CUE_GET_ARGS, { id, offset: 0, limit: 0 }),
    )
    return storedOf(id, fieldsOf(head(reply, CUE_GET_REPLY).list('cue')))
  }

  /** The cue with a page of its most recent executions, newest first (its stats: Outcomes.cueStats). */
  async get(
    tenant: TenantRef,
    id: string,
    page: { limit: number; offset: number },
  ): Promise<Omit<CueDetail, 'stats'>> {
    const reply = await this.core.run(
      'cue_get',
      this.home(tenant),
      args(CUE_GET_ARGS, { id, offset: page.offset, limit: page.limit }),
    )
    const h = head(reply, CUE_GET_REPLY)
    const { record } = storedOf(id, fieldsOf(h.list('cue')))
    const executions = rows(reply, CUE_GET_REPLY, LISTED, h.int('count')).map((row) =>
      this.reads.summary(row, h.int('now')),
    )
    return {
      ...record,
      executions,
      execution_total: h.int('total'),
      execution_limit: page.limit,
      execution_offset: page.offset,
    }
  }

  async list(
    tenant: TenantRef,
    query: { status?: CueStatus | undefined; limit: number; offset: number },
  ): Promise<ListCuesResponse> {
    const reply = await this.core.run(
      'cue_list',
      this.home(tenant),
      args(CUE_LIST_ARGS, { status: query.status ?? '', offset: query.offset, limit: query.limit }),
    )
    const h = head(reply, CUE_LIST_REPLY)
    const cues = rows(reply, CUE_LIST_REPLY, CUE_ITEM, h.int('count')).map(
      (row) => storedOf(row.str('id'), fieldsOf(row.list('cue'))).record,
    )
    return { cues, total: h.int('total'), limit: query.limit, offset: query.offset }
  }

  /**
   * Applies an edit: `edit` gets the stored cue and returns its new configuration and status (it
   * may be async, e.g. to check a webhook URL). Retried when another edit landed meanwhile.
   */
  async update(
    tenant: TenantRef,
    id: string,
    edit: (current: StoredCue) => Promise<{ config: CueConfig; status: CueStatus }>,
  ): Promise<CueRecord> {
    for (let attempt = 0; attempt < UPDATE_TRIES; attempt++) {
      const current = await this.read(tenant, id)
      const { config, status } = await edit(current)
      checkConfig(config)
      const scheduleChanged = JSON.stringify(config.schedule) !== JSON.stringify(current.config.schedule)
      let nr = 'keep'
      if (status !== 'active') nr = ''
      else if (!scheduleChanged && current.status !== 'active' && config.schedule.type === 'once') {
        // CueAPI: resuming a one-time cue takes its `at` as it is, a past one included: it fires
        // at once unless that tick already fired (the scheduler never fires a tick twice).
        nr = String(Date.parse(config.schedule.at ?? ''))
      } else if (scheduleChanged || current.status !== 'active') {
        // Resumed or re-scheduled: continue from now, never a burst of the ticks in between.
        nr = String(firstFire(config.schedule, this.now()))
      }
      await this.checkChain(tenant, id, config.on_success_fire)
      const home = this.home(tenant)
      let reply: Awaited<ReturnType<EngineCore['run']>>
      try {
        reply = await this.core.run(
          'cue_update',
          home,
          args(CUE_UPDATE_ARGS, {
            id,
            version: current.version,
            name: config.name,
            status,
            type: config.schedule.type,
            transport: config.transport,
            ...this.executionFields(config),
            next_run: nr,
            config: JSON.stringify(config),
          }),
        )
      } catch (error) {
        if (error instanceof EngineError && error.code === 'cue_conflict') continue
        throw error
      }
      this.core.due(home, head(reply, CUE_UPDATE_REPLY).str('next_due'))
      return (await this.read(tenant, id)).record
    }
    throw new EngineError('cue_conflict')
  }

  async delete(tenant: TenantRef, id: string): Promise<void> {
    await this.core.run('cue_delete', this.home(tenant), args(CUE_DELETE_ARGS, { id }))
  }

  /** A manual fire: one new execution now (or at `send_at`), whatever the schedule or status. */
  async fire(tenant: TenantRef, cue: StoredCue, input: FireInput): Promise<ExecutionRecord> {
    const config = cue.config
    const override = input.payload_override ?? null
    if (config.require_payload_override && override === null)
      throw new EngineError('payload_override_required')
    const payload =
      override === null
        ? config.payload
        : input.merge_strategy === 'replace'
          ? override
          : { ...config.payload, ...override }
    const missing = config.required_payload_keys.filter((k) => !(k in payload))
    if (missing.length > 0) {
      throw new EngineError(
        'missing_required_payload_keys',
        `The payload lacks required keys: ${missing.join(', ')}.`,
      )
    }
    const body = JSON.stringify(payload)
    if (Buffer.byteLength(body) > LIMITS.bodyLimitBytes) throw new EngineError('payload_too_large')
    const at = input.send_at ? Date.parse(input.send_at) : null
    const ref = this.home(tenant)
    const executionId = newExecutionIdIn(0, tenant.partitions)
    const reply = await this.core.run(
      'cue_fire',
      ref,
      args(CUE_FIRE_ARGS, {
        id: cue.id,
        execution_id: executionId,
        at: at === null ? '' : at,
        payload: body,
        task: taskOf(config, payload),
        idempotency_key: input.idempotency_key ?? '',
        idempotency_ttl: LIMITS.idempotencyTtlSeconds,
      }),
    )
    const h = head(reply, CUE_FIRE_REPLY)
    this.core.due(ref, h.str('next_due'))
    return this.reads.get(tenant, h.str('id'))
  }

  /**
   * The scheduler's share of a maintenance pass over a partition: fires the due cues' ticks and
   * returns how many executions it created and when a cue is next due.
   */
  async schedule(ref: PartitionRef): Promise<{ fired: number; next: number | null }> {
    if (ref.partition !== 0) return { fired: 0, next: null }
    const due = await this.core.run('cue_due', ref, args(CUE_DUE_ARGS, { limit: DUE_BATCH }))
    const h = head(due, CUE_DUE_REPLY)
    const now = h.int('now')
    let next = h.str('next_due') === '' ? null : h.int('next_due')
    // Each cue's tick is its own atomic script; issued together they share a round trip.
    const ticked = await Promise.all(
      rows(due, CUE_DUE_REPLY, DUE_CUE, h.int('count')).map((row) => this.tick(ref, row, now)),
    )
    let fired = 0
    for (const t of ticked) {
      fired += t.fired
      if (t.next !== null) next = next === null ? t.next : Math.min(next, t.next)
    }
    return { fired, next }
  }

  /** Plans one due cue's ticks and applies the plan. */
  private async tick(
    ref: PartitionRef,
    due: Row<(typeof DUE_CUE.fields)[number]>,
    now: number,
  ): Promise<{ fired: number; next: number | null }> {
    const partitions = due.int('partitions', 1)
    const nextRun = due.str('next_run')
    const lastFired = due.str('last_fired') === '' ? Number.NEGATIVE_INFINITY : due.int('last_fired')
    let plan: { ticks: number[]; next: number | null }
    try {
      const config = JSON.parse(due.str('config')) as CueConfig
      plan = planTicks(config.schedule, config.catch_up, Number(nextRun), now, this.graceMs)
    } catch {
      // A schedule that no longer parses (e.g. a zone dropped from the runtime's tz data) stops
      // firing instead of failing every pass; the cue keeps its configuration.
      plan = { ticks: [], next: null }
    }
    const ticks = plan.ticks.filter((t) => t > lastFired)
    const reply = await this.core.run('cue_tick', ref, [
      ...args(CUE_TICK_ARGS, {
        id: due.str('id'),
        version: due.str('version'),
        expected_next_run: nextRun,
        next_run: plan.next === null ? '' : plan.next,
        tick_count: ticks.length,
      }),
      ...ticks.flatMap((t) => [newExecutionIdIn(0, partitions), String(t)]),
    ])
    const h = head(reply, CUE_TICK_REPLY)
    // The scheduler plans from next_run; the due index also learns it from next_due.
    return { fired: h.int('fired'), next: h.str('next_run') === '' ? null : h.int('next_run') }
  }
}

function scheduleOf(s: CreateCueRequest['schedule']): ScheduleSpec {
  return s.type === 'recurring'
    ? { type: 'recurring', cron: s.cron ?? null, timezone: s.timezone }
    : { type: 'once', at: s.at ? new Date(Date.parse(s.at)).toISOString() : null, timezone: s.timezone }
}

function callbackOf(transport: CueTransport, cb: CreateCueRequest['callback']): CueConfig['callback'] {
  return {
    url: transport === 'worker' ? null : (cb?.url ?? null),
    method: cb?.method ?? 'POST',
    headers: cb?.headers ?? {},
  }
}

function retryOf(r: CreateCueRequest['retry']): CueConfig['retry'] {
  if (!r)
    return {
      max_attempts: CUE_LIMITS.defaultRetryAttempts,
      backoff_minutes: [...CUE_LIMITS.defaultBackoffMinutes],
    }
  if (r.backoff_seconds) return { max_attempts: r.max_attempts, backoff_seconds: r.backoff_seconds }
  return {
    max_attempts: r.max_attempts,
    backoff_minutes: r.backoff_minutes ?? [...CUE_LIMITS.defaultBackoffMinutes],
  }
}

function backoffSecondsOf(r: CueConfig['retry']): number[] {
  if (r.backoff_seconds) return r.backoff_seconds
  return (r.backoff_minutes ?? CUE_LIMITS.defaultBackoffMinutes).map((m) => m * 60)
}

/** Worker cues queue under the explicit task, else `payload.task`, else `default`. */
function taskOf(config: CueConfig, payload: Record<string, unknown>): string {
  if (config.transport === 'webhook') return WEBHOOK_TASK
  if (config.task) return config.task
  const fromPayload = TaskName.safeParse(payload.task)
  return fromPayload.success ? fromPayload.data : 'default'
}

function checkConfig(config: CueConfig): void {
  if (config.transport === 'webhook' && !config.callback.url) {
    throw new EngineError('validation_error', 'callback.url: a webhook cue needs a callback URL.')
  }
}

function storedOf(id: string, stored: Record<string, string>): StoredCue {
  const F = CUE_FIELDS.names
  const h = (name: keyof typeof F): string | undefined => stored[F[name]]
  const cfg = h('config')
  if (!cfg) throw new EngineError('cue_not_found')
  const config = JSON.parse(cfg) as CueConfig
  const status = (h('status') ?? 'active') as CueStatus
  const schedule: CueRecord['schedule'] = { type: config.schedule.type, timezone: config.schedule.timezone }
  if (config.schedule.type === 'recurring' && config.schedule.cron) schedule.cron = config.schedule.cron
  if (config.schedule.type === 'once' && config.schedule.at) schedule.at = config.schedule.at
  const backoffSeconds = backoffSecondsOf(config.retry)
  const record: CueRecord = {
    id,
    name: h('name') ?? config.name,
    description: config.description,
    status,
    transport: config.transport,
    schedule,
    callback: config.callback,
    payload: config.payload,
    task: config.transport === 'worker' ? (h('task') ?? null) : null,
    retry: {
      max_attempts: config.retry.max_attempts,
      backoff_minutes: config.retry.backoff_minutes ?? backoffSeconds.map((s) => s / 60),
      backoff_seconds: backoffSeconds,
    },
    catch_up: config.catch_up,
    delivery: config.delivery,
    alerts: config.alerts,
    on_failure: config.on_failure,
    verification: config.verification,
    on_success_fire: config.on_success_fire,
    require_payload_override: config.require_payload_override,
    required_payload_keys: config.required_payload_keys,
    next_run: isoOrNull(h('next_run')),
    last_run: isoOrNull(h('last_run')),
    run_count: int(h('run_count')),
    fired_count: int(h('fired_count')),
    warning: null,
    created_at: iso(h('created_at') ?? 0),
    updated_at: iso(h('updated_at') ?? h('created_at') ?? 0),
  }
  return { id, version: h('version') ?? '1', status, config, record }
}

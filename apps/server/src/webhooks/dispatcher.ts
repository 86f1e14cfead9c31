import { hostname } from 'node:os'
import { type Engine, EngineError, type StoredCue, type TenantRecord, type Tenants } from '@cuekit/engine'
import { type ClaimedExecution, EMAIL_TASK, WEBHOOK_TASK } from '@cuekit/protocol'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.ts'
import type { Resolver } from '../ssrf.ts'
import { sendWebhook, webhookMessage } from './deliver.ts'
import type { Mailer } from './mail.ts'
import { buildNotice, NOTICE_KIND, NOTICE_TASKS, NOTICE_TIMEOUT_MS, type Notice } from './notices.ts'

/** Worker ids of the built-in dispatchers (one per server process). */
export const DISPATCHER_WORKER_PREFIX = 'cuekit-webhooks@'

export interface DispatcherOptions {
  engine: Engine
  tenants: Tenants
  log: Logger
  metrics?: Metrics
  allowPrivate: boolean
  /** Deliveries in flight on this server at most. */
  concurrency?: number
  /** Coarse re-check of every tenant with webhook cues, in case a notification was lost. */
  recheckMs?: number
  /** How long stop() lets in-flight deliveries finish before releasing their leases. */
  stopGraceMs?: number
  resolve?: Resolver
  /** Sends on_failure mail; without one this server leaves `@email` executions to others. */
  mailer?: Mailer | null
  /** How long an alert or failure webhook (or a mail) may take; CueAPI's is 10 s. */
  noticeTimeoutMs?: number
  /** A notice's lease is its timeout plus this margin. */
  leaseMarginSeconds?: number
}

interface InFlight {
  tenant: TenantRecord
  item: ClaimedExecution
  abort: AbortController
  done: Promise<void>
}

/**
 * The built-in webhook dispatcher: a worker of the engine like any other. It claims executions of
 * the internal `@webhook` task with a lease of the cue's timeout plus a margin (set when the cue
 * fired), delivers them, and reports the outcome with its lease token. It also sends the notices
 * the engine queues as internal executions (`@alert`, `@notify`, `@email`; notices.ts), leased for
 * their own timeout plus the margin, retried with the backoff the engine gave them. A server that dies
 * mid-delivery leaves the lease to expire; the reaper re-queues the execution and any server's
 * dispatcher delivers it again under the same execution ID (at-least-once).
 *
 * It wakes on the same "executions became claimable" notifications as long-polls, and re-checks
 * the tenants that have webhook cues on a coarse timer.
 */
export class WebhookDispatcher {
  readonly workerId = `${DISPATCHER_WORKER_PREFIX}${hostname()}:${process.pid}`
  private running = false
  private timer: NodeJS.Timeout | null = null
  private readonly inFlight = new Set<InFlight>()
  private readonly draining = new Set<string>()
  private readonly again = new Set<string>()
  /** Tenants left with work when this server was at capacity: retried as slots free up. */
  private readonly saturated = new Set<string>()
  /**
   * Tenants that may have notices to claim (announced, or a re-check): only these pay a second
   * claim per round, so a stream of webhook deliveries does not.
   */
  private readonly noticesDue = new Set<string>()
  private readonly tenantCache = new Map<string, { tenant: TenantRecord | null; until: number }>()
  private readonly concurrency: number
  private readonly recheckMs: number
  private readonly stopGraceMs: number
  private readonly noticeTimeoutMs: number
  private readonly noticeTasks: string[]
  private readonly noticeLeaseSeconds: number

  constructor(private readonly options: DispatcherOptions) {
    this.concurrency = options.concurrency ?? 32
    this.recheckMs = options.recheckMs ?? 5000
    this.stopGraceMs = options.stopGraceMs ?? 5000
    this.noticeTimeoutMs = options.noticeTimeoutMs ?? NOTICE_TIMEOUT_MS
    this.noticeLeaseSeconds = Math.ceil(this.noticeTimeoutMs / 1000) + (options.leaseMarginSeconds ?? 10)
    // A server that cannot mail leaves mail to one that can.
    this.noticeTasks = NOTICE_TASKS.filter((t) => t !== EMAIL_TASK || options.mailer)
  }

  get size(): number {
    return this.inFlight.size
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.timer = setInterval(() => void this.recheck(), this.recheckMs)
    this.timer.unref()
    void this.recheck()
  }

  /** From the pub/sub notification: some executions of `tasks` became claimable in a tenant. */
  notify(tenantId: string, tasks: Map<string, number>): void {
    if (!this.running) return
    if (this.noticeTasks.some((t) => tasks.has(t))) this.noticesDue.add(tenantId)
    if (tasks.has(WEBHOOK_TASK) || this.noticesDue.has(tenantId)) this.kick(tenantId)
  }

  /** Stops claiming; in-flight deliveries get a grace period, then are aborted and released. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    if (this.timer) clearInterval(this.timer)
    const all = [...this.inFlight]
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.stopGraceMs).unref())
    await Promise.race([Promise.all(all.map((f) => f.done)), grace])
    for (const f of this.inFlight) f.abort.abort()
    await Promise.all([...this.inFlight].map((f) => f.done))
  }

  private async recheck(): Promise<void> {
    try {
      for (const id of await this.options.tenants.webhookTenantIds()) {
        this.noticesDue.add(id)
        this.kick(id)
      }
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'webhook dispatcher re-check failed')
    }
  }

  private kick(tenantId: string): void {
    if (!this.running) return
    if (this.draining.has(tenantId)) {
      this.again.add(tenantId)
      return
    }
    this.draining.add(tenantId)
    void this.drain(tenantId).finally(() => this.draining.delete(tenantId))
  }

  private async tenant(id: string): Promise<TenantRecord | null> {
    const hit = this.tenantCache.get(id)
    if (hit && hit.until > Date.now()) return hit.tenant
    const tenant = await this.options.tenants.get(id)
    this.tenantCache.set(id, { tenant, until: Date.now() + 30_000 })
    return tenant
  }

  private async drain(tenantId: string): Promise<void> {
    try {
      const tenant = await this.tenant(tenantId)
      if (!tenant) return
      do {
        this.again.delete(tenantId)
        while (this.running) {
          const free = this.concurrency - this.inFlight.size
          if (free <= 0) {
            this.saturated.add(tenantId)
            return
          }
          const want = Math.min(free, 100)
          // Notices first: they are few, and an alert should not wait behind a delivery backlog.
          // Their lease is their own timeout plus the margin, not a cue's.
          let notices: ClaimedExecution[] = []
          if (this.noticesDue.delete(tenantId)) {
            notices = await this.options.engine.claim(tenant, {
              worker_id: this.workerId,
              task: this.noticeTasks,
              max: want,
              lease_seconds: this.noticeLeaseSeconds,
            })
            if (notices.length === want) this.noticesDue.add(tenantId)
            for (const item of notices) this.begin(tenant, item)
          }
          const left = want - notices.length
          const claimed =
            left > 0
              ? await this.options.engine.claim(tenant, {
                  worker_id: this.workerId,
                  task: WEBHOOK_TASK,
                  max: left,
                })
              : []
          for (const item of claimed) this.begin(tenant, item)
          if (claimed.length + notices.length < want) break
        }
      } while (this.running && this.again.has(tenantId))
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message, tenant_id: tenantId }, 'webhook claim failed')
    }
  }

  private begin(tenant: TenantRecord, item: ClaimedExecution): void {
    const abort = new AbortController()
    const entry: InFlight = { tenant, item, abort, done: Promise.resolve() }
    entry.done = this.deliver(entry)
      .catch((err: Error) =>
        this.options.log.error(
          { err: err.message, execution_id: item.execution_id },
          'webhook delivery crashed',
        ),
      )
      .finally(() => {
        this.inFlight.delete(entry)
        const waiting = [...this.saturated]
        this.saturated.clear()
        for (const id of waiting) this.kick(id)
      })
    this.inFlight.add(entry)
  }

  private async deliver(entry: InFlight): Promise<void> {
    if (entry.item.task !== WEBHOOK_TASK) return this.sendNotice(entry)
    const { tenant, item, abort } = entry
    const { engine, tenants, log, metrics } = this.options
    const lease = { lease_token: item.lease.token }
    let cue: StoredCue
    try {
      cue = await engine.cues.read(tenant, item.cue_id ?? '')
    } catch (error) {
      if (!(error instanceof EngineError && error.code === 'cue_not_found')) throw error
      await this.report(tenant, item, {
        success: false,
        error: 'The cue was deleted.',
        retry: false,
        ...lease,
      })
      return
    }
    const secret = await tenants.webhookSecret(tenant.id)
    const { body, headers } = webhookMessage(cue, item, secret, Math.floor(Date.now() / 1000))
    const result = await sendWebhook({
      url: cue.config.callback.url ?? '',
      method: cue.config.callback.method,
      headers,
      body,
      timeoutMs: cue.config.delivery.timeout_seconds * 1000,
      allowPrivate: this.options.allowPrivate,
      signal: abort.signal,
      ...(this.options.resolve ? { resolve: this.options.resolve } : {}),
    })
    if (abort.signal.aborted) {
      // Shutting down: hand the execution back without spending its attempt.
      metrics?.webhookDeliveries.inc({ kind: 'webhook', result: 'released' })
      await engine.release(tenant, item.execution_id, lease).catch(() => {})
      return
    }
    metrics?.webhookDeliveries.inc({ kind: 'webhook', result: result.ok ? 'success' : 'failure' })
    if (!result.ok) {
      log.info(
        {
          execution_id: item.execution_id,
          cue_id: cue.id,
          attempt: item.attempt,
          status: result.status,
          err: result.error,
        },
        'webhook delivery failed',
      )
    }
    // The answer's status is recorded either way (CueAPI's http_status; null without an answer).
    const http_status = result.status ?? undefined
    await this.report(
      tenant,
      item,
      result.ok
        ? { success: true, http_status, ...lease }
        : { success: false, error: result.error, http_status, ...lease },
    )
  }

  /** An alert, a `cue.failed` webhook or a mail: sent, then reported like a delivery. */
  private async sendNotice({ tenant, item, abort }: InFlight): Promise<void> {
    const { engine, log, metrics } = this.options
    const lease = { lease_token: item.lease.token }
    const notice: Notice = await buildNotice(
      { engine, tenants: this.options.tenants, now: Date.now },
      tenant,
      item,
    )
    if (notice.kind === 'none') {
      log.info({ execution_id: item.execution_id, task: item.task, reason: notice.reason }, 'notice dropped')
      await this.report(tenant, item, { success: false, error: notice.reason, retry: false, ...lease })
      return
    }
    let error: string | null = null
    let http_status: number | undefined
    if (notice.kind === 'http') {
      const result = await sendWebhook({
        url: notice.url,
        method: 'POST',
        headers: notice.headers,
        body: notice.body,
        timeoutMs: this.noticeTimeoutMs,
        allowPrivate: this.options.allowPrivate,
        signal: abort.signal,
        ...(this.options.resolve ? { resolve: this.options.resolve } : {}),
      })
      error = result.error
      http_status = result.status ?? undefined
    } else {
      error = await this.mail(notice)
    }
    const kind = NOTICE_KIND[item.task] ?? 'notify'
    if (abort.signal.aborted) {
      metrics?.webhookDeliveries.inc({ kind, result: 'released' })
      await engine.release(tenant, item.execution_id, lease).catch(() => {})
      return
    }
    metrics?.webhookDeliveries.inc({ kind, result: error === null ? 'success' : 'failure' })
    if (error !== null) {
      log.info(
        { execution_id: item.execution_id, task: item.task, attempt: item.attempt, err: error },
        'notice failed',
      )
    }
    await this.report(
      tenant,
      item,
      error === null
        ? { success: true, http_status, ...lease }
        : { success: false, error, http_status, ...lease },
    )
  }

  private async mail(notice: Extract<Notice, { kind: 'mail' }>): Promise<string | null> {
    const mailer = this.options.mailer
    if (!mailer) return 'This server has no SMTP server (CUEKIT_SMTP_URL).'
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('The SMTP server did not answer in time.'), this.noticeTimeoutMs)
    })
    try {
      return await Promise.race([
        mailer.send({ to: notice.to, subject: notice.subject, text: notice.text }).then(() => null),
        late,
      ])
    } catch (err) {
      return `Mail not sent: ${(err as Error).message}`
    } finally {
      clearTimeout(timer)
    }
  }

  private async report(
    tenant: TenantRecord,
    item: ClaimedExecution,
    input: Parameters<Engine['report']>[2],
  ): Promise<void> {
    try {
      await this.options.engine.report(tenant, item.execution_id, input)
    } catch (error) {
      // The lease ended meanwhile (expired, cancelled, or a CueAPI client reported first): the
      // engine already decided; nothing of ours to undo.
      if (error instanceof EngineError) {
        this.options.log.info(
          { execution_id: item.execution_id, code: error.code },
          'webhook outcome not recorded',
        )
        return
      }
      throw error
    }
  }
}

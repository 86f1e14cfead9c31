import {
  type AlertWebhookSecretResponse,
  type CreateTenantResponse,
  type CueDetail,
  type CueRecord,
  type ExecutionRecord,
  type ListCuesResponse,
  type ListLeasesResponse,
  type ListQueuesResponse,
  type ListWorkersResponse,
  type MeResponse,
  type PreviewCueResponse,
  type RatesQuery,
  type RatesResponse,
  type RegenerateAlertWebhookSecretResponse,
  type RegenerateKeyResponse,
  type RegenerateWebhookSecretResponse,
  type RegisterResponse,
  ROUTES,
  type StatsResponse,
  type WebhookSecretResponse,
  type WorkerHeartbeatResponse,
} from '@cuekit/protocol'
import type {
  CreateCueInput,
  FireCueInput,
  ListCuesInput,
  ListLeasesInput,
  PreviewCueInput,
  UpdateCueInput,
  UpdateMeInput,
  WorkerHeartbeatInput,
} from '../types.ts'
import type { Requester, RequestOptions } from './request.ts'

/**
 * `client.workers`: a worker's own heartbeat (with its handlers), the worker list, forgetting one.
 *
 * @example
 * ```ts
 * await client.workers.heartbeat({ worker_id: 'w1', handlers: ['send-email'] })
 * const { workers } = await client.workers.list()
 * ```
 */
export class WorkersApi {
  constructor(private readonly client: Requester) {}

  /** `POST /v1/worker/heartbeat` (CueAPI): marks the worker alive and records its handlers. */
  heartbeat(input: WorkerHeartbeatInput, options?: RequestOptions): Promise<WorkerHeartbeatResponse> {
    return this.client.send(ROUTES.workerHeartbeat, {
      body: input,
      safe: true,
      options,
    })
  }

  /** `GET /v1/workers`: state, handlers, leases in flight and counters per worker. */
  list(options?: RequestOptions): Promise<ListWorkersResponse> {
    return this.client.send(ROUTES.listWorkers, {
      safe: true,
      options,
    })
  }

  /** `DELETE /v1/workers/{id}`: forgets a worker; its leases end as usual. */
  async delete(workerId: string, options?: RequestOptions): Promise<void> {
    await this.client.send(ROUTES.deleteWorker, {
      params: { id: workerId },
      safe: true,
      options,
    })
  }
}

/**
 * `client.leases`: live leases sorted by expiry, for dashboards and alerts.
 *
 * @example
 * ```ts
 * const { leases } = await client.leases.list({ expiring_within_seconds: 30 })
 * ```
 */
export class LeasesApi {
  constructor(private readonly client: Requester) {}

  /** `GET /v1/leases`. */
  list(query: ListLeasesInput = {}, options?: RequestOptions): Promise<ListLeasesResponse> {
    return this.client.send(ROUTES.listLeases, {
      query: { ...query },
      safe: true,
      options,
    })
  }
}

/**
 * `client.queues`: counts by status per task.
 *
 * @example
 * ```ts
 * const { queues } = await client.queues.list()
 * for (const q of queues) console.log(q.task, q.pending, q.oldest_pending_age_ms)
 * ```
 */
export class QueuesApi {
  constructor(private readonly client: Requester) {}

  /** `GET /v1/queues`. */
  list(options?: RequestOptions): Promise<ListQueuesResponse> {
    return this.client.send(ROUTES.listQueues, {
      safe: true,
      options,
    })
  }
}

/**
 * `client.tenants`: creating tenants; needs a client built with the admin key.
 *
 * @example
 * ```ts
 * const admin = new Client({ baseUrl, apiKey: process.env.CUEKIT_ADMIN_KEY })
 * const { tenant_id, api_key } = await admin.tenants.create({ name: 'acme' })
 * ```
 */
export class TenantsApi {
  constructor(private readonly client: Requester) {}

  /** `POST /v1/tenants` (admin key): a new tenant and its first API key. */
  create(input: { name?: string } = {}, options?: RequestOptions): Promise<CreateTenantResponse> {
    return this.client.send(ROUTES.createTenant, {
      body: input,
      safe: false,
      options,
    })
  }
}

/**
 * `client.auth`: CueAPI's account endpoints.
 *
 * @example
 * ```ts
 * const { api_key } = await new Client({ baseUrl }).auth.register({ email: 'me@example.com' })
 * const me = await new Client({ baseUrl, apiKey: api_key }).auth.me()
 * ```
 */
export class AuthApi {
  constructor(private readonly client: Requester) {}

  /** `POST /v1/auth/register` (no key needed; open registration only). */
  register(input: { email: string }, options?: RequestOptions): Promise<RegisterResponse> {
    return this.client.send(ROUTES.register, {
      body: input,
      safe: false,
      options,
    })
  }

  /** `GET /v1/auth/me`: the tenant behind this key. */
  me(options?: RequestOptions): Promise<MeResponse> {
    return this.client.send(ROUTES.me, {
      safe: true,
      options,
    })
  }

  /**
   * `PATCH /v1/auth/me`: changes this tenant's settings (fields left out keep their value). Other
   * servers see the change within 10 s (their auth cache).
   */
  update(input: UpdateMeInput, options?: RequestOptions): Promise<MeResponse> {
    return this.client.send(ROUTES.updateMe, { body: input, safe: true, options })
  }

  /** `GET /v1/auth/webhook-secret`: the `whsec_…` secret webhook deliveries are signed with. */
  webhookSecret(options?: RequestOptions): Promise<WebhookSecretResponse> {
    return this.client.send(ROUTES.webhookSecret, {
      safe: true,
      options,
    })
  }

  /** `POST /v1/auth/webhook-secret/regenerate`: a new webhook secret; the old one stops at once. */
  regenerateWebhookSecret(options?: RequestOptions): Promise<RegenerateWebhookSecretResponse> {
    return this.client.send(ROUTES.regenerateWebhookSecret, {
      safe: false,
      options,
    })
  }

  /**
   * `PATCH /v1/auth/me` with `alert_webhook_url`: where alerts are posted (SSRF-checked: 400
   * `invalid_alert_webhook_url`); null clears it.
   */
  setAlertWebhookUrl(url: string | null, options?: RequestOptions): Promise<MeResponse> {
    return this.update({ alert_webhook_url: url }, options)
  }

  /** `GET /v1/auth/alert-webhook-secret`: the secret alert webhooks are signed with. */
  alertWebhookSecret(options?: RequestOptions): Promise<AlertWebhookSecretResponse> {
    return this.client.send(ROUTES.alertWebhookSecret, { safe: true, options })
  }

  /** `POST /v1/auth/alert-webhook-secret/regenerate` (sends `X-Confirm-Destructive: true`). */
  regenerateAlertWebhookSecret(options?: RequestOptions): Promise<RegenerateAlertWebhookSecretResponse> {
    return this.client.send(ROUTES.regenerateAlertWebhookSecret, {
      headers: { 'x-confirm-destructive': 'true' },
      safe: false,
      options,
    })
  }

  /**
   * `POST /v1/auth/key/regenerate`: revokes this key and returns a new one, which this client
   * uses from then on.
   */
  async regenerateKey(options?: RequestOptions): Promise<RegenerateKeyResponse> {
    const answer = await this.client.send(ROUTES.regenerateKey, {
      safe: false,
      options,
    })
    this.client.apiKey = answer.api_key
    return answer
  }
}

/**
 * `client.cues`: schedules, in CueAPI's shapes (answers parsed with the protocol's cue schemas).
 *
 * @example
 * ```ts
 * const cue = await client.cues.create({
 *   name: 'nightly-report',
 *   transport: 'worker',
 *   schedule: { type: 'recurring', cron: '0 3 * * *', timezone: 'Europe/Paris' },
 *   payload: { task: 'report' },
 * })
 * await client.cues.fire(cue.id, { payload_override: { day: '2026-01-01' } })
 * ```
 */
export class CuesApi {
  constructor(private readonly client: Requester) {}

  /** `POST /v1/cues`. `warning` on the answer flags, e.g., a worker cue no worker serves yet. */
  create(input: CreateCueInput, options?: RequestOptions): Promise<CueRecord> {
    return this.client.send(ROUTES.createCue, {
      body: input,
      safe: false,
      options,
    })
  }

  /**
   * `POST /v1/cues/preview`: the next times a schedule would fire, computed by the scheduler
   * itself; nothing is stored.
   */
  preview(input: PreviewCueInput, options?: RequestOptions): Promise<PreviewCueResponse> {
    return this.client.send(ROUTES.previewCue, { body: input, safe: true, options })
  }

  /** `GET /v1/cues`: offset paging, `limit` ≤ 100, optionally by `status`. */
  list(query: ListCuesInput = {}, options?: RequestOptions): Promise<ListCuesResponse> {
    return this.client.send(ROUTES.listCues, {
      query: { ...query },
      safe: true,
      options,
    })
  }

  /** `GET /v1/cues/{id}`: the cue with its most recent executions. */
  get(
    cueId: string,
    query: { execution_limit?: number; execution_offset?: number } = {},
    options?: RequestOptions,
  ): Promise<CueDetail> {
    return this.client.send(ROUTES.getCue, {
      params: { id: cueId },
      query: { ...query },
      safe: true,
      options,
    })
  }

  /** `PATCH /v1/cues/{id}`: any subset of the fields. */
  update(cueId: string, input: UpdateCueInput, options?: RequestOptions): Promise<CueRecord> {
    return this.client.send(ROUTES.updateCue, {
      params: { id: cueId },
      body: input,
      safe: true,
      options,
    })
  }

  /** Pauses the cue: `update` with `status: 'paused'`. */
  pause(cueId: string, options?: RequestOptions): Promise<CueRecord> {
    return this.update(cueId, { status: 'paused' }, options)
  }

  /** Resumes the cue: `update` with `status: 'active'`. */
  resume(cueId: string, options?: RequestOptions): Promise<CueRecord> {
    return this.update(cueId, { status: 'active' }, options)
  }

  /** `DELETE /v1/cues/{id}`. */
  async delete(cueId: string, options?: RequestOptions): Promise<void> {
    await this.client.send(ROUTES.deleteCue, { params: { id: cueId }, safe: true, options })
  }

  /**
   * `POST /v1/cues/{id}/fire`: fires the cue now (or at `send_at`), optionally with a payload
   * override; returns the created execution. With `idempotency_key` it is retried safely.
   */
  fire(cueId: string, input: FireCueInput = {}, options?: RequestOptions): Promise<ExecutionRecord> {
    return this.client.send(ROUTES.fireCue, {
      params: { id: cueId },
      body: input,
      safe: typeof input.idempotency_key === 'string',
      options,
    })
  }
}

/**
 * `client.stats`: the tenant's ops overview (long-polls waiting, reaper lag, worker states).
 *
 * @example
 * ```ts
 * const { reaper, workers } = await client.stats.get()
 * if (reaper.overdue_leases > 0) console.warn('leases overdue by', reaper.oldest_overdue_ms, 'ms')
 * ```
 */
export class StatsApi {
  constructor(private readonly client: Requester) {}

  /** `GET /v1/stats`. */
  get(options?: RequestOptions): Promise<StatsResponse> {
    return this.client.send(ROUTES.stats, {
      safe: true,
      options,
    })
  }

  /** `GET /v1/stats/rates`: activity per minute over the last 15 minutes, hour or day. */
  rates(query: { window?: RatesQuery['window'] } = {}, options?: RequestOptions): Promise<RatesResponse> {
    return this.client.send(ROUTES.statsRates, { query, safe: true, options })
  }
}

import { type CueConfig, Cues, firstFire, nextTick, type TenantRecord } from '@cuekit/engine'
import {
  CreateCueRequest,
  CueDetail,
  CueRecord,
  ErrorBody,
  FireCueRequest,
  FireCueResponse,
  GetCueQuery,
  ListCuesQuery,
  ListCuesResponse,
  PreviewCueRequest,
  PreviewCueResponse,
  RegenerateWebhookSecretResponse,
  UpdateCueRequest,
  WebhookSecretResponse,
} from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'
import { checkWebhookUrl, WebhookUrlError } from '../ssrf.ts'
import { DISPATCHER_WORKER_PREFIX } from '../webhooks.ts'

const tags = ['cues']
const err = (description: string) => ({ description, schema: ErrorBody })

export function cueRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  const { engine, tenants, config } = s

  /**
   * The SSRF guard at the door: a webhook URL that is (or resolves to) a refused address is 422.
   * A host that does not resolve is accepted with a warning; every delivery checks again.
   */
  const checkCallback = async (cfg: CueConfig): Promise<string | null> => {
    if (cfg.transport !== 'webhook' || !cfg.callback.url) return null
    try {
      await checkWebhookUrl(cfg.callback.url, {
        allowPrivate: config.webhookAllowPrivate,
        ...(s.resolve ? { resolve: s.resolve } : {}),
      })
      return null
    } catch (error) {
      if (error instanceof WebhookUrlError) {
        if (error.unresolved) return `${error.message} Deliveries fail until it resolves.`
        throw new HttpError('webhook_url_not_allowed', error.message)
      }
      throw error
    }
  }

  const workerWarning = async (tenant: TenantRecord, cfg: CueConfig): Promise<string | null> => {
    if (cfg.transport !== 'worker') return null
    const { workers } = await engine.workers(tenant, 200)
    // The webhook dispatcher claims like a worker but serves no worker task.
    return workers.some((w) => w.state === 'active' && !w.worker_id.startsWith(DISPATCHER_WORKER_PREFIX))
      ? null
      : 'No active workers found. Start a cueapi-worker to process this cue.'
  }

  route(
    app,
    s,
    {
      method: 'post',
      path: '/v1/cues',
      summary: 'Create a cue (CueAPI nested shape, or the MCP flat shape)',
      tags,
      body: CreateCueRequest,
      responses: {
        201: { description: 'Created', schema: CueRecord },
        400: err('invalid_schedule'),
        409: err('duplicate_cue_name'),
        422: err('validation_error, invalid_timezone or webhook_url_not_allowed'),
      },
    },
    async (c, { body }) => {
      const tenant = c.get('tenant')
      const cfg = Cues.configFromCreate(body)
      const warning = (await checkCallback(cfg)) ?? (await workerWarning(tenant, cfg))
      if (cfg.transport === 'webhook') await tenants.markWebhookTenant(tenant.id)
      const record = await engine.cues.create(tenant, cfg)
      return c.json({ ...record, warning }, 201)
    },
  )

  route(
    app,
    s,
    {
      method: 'post',
      path: '/v1/cues/preview',
      summary: 'The next runs a schedule would fire (checked as cue creation checks it); nothing is stored',
      tags,
      body: PreviewCueRequest,
      responses: {
        200: { description: 'Upcoming fire times, ascending', schema: PreviewCueResponse },
        400: err('invalid_schedule'),
        422: err('validation_error or invalid_timezone'),
      },
    },
    async (c, { body }) => {
      const { type, cron, at, timezone } = body.schedule
      // The scheduler's own functions and clock: a preview never disagrees with what will fire.
      const runs = [firstFire({ type, cron, at, timezone }, engine.cues.now())]
      while (type === 'recurring' && cron && runs.length < body.count) {
        const next = nextTick(cron, timezone, runs[runs.length - 1]!)
        if (next === null) break
        runs.push(next)
      }
      return c.json({ timezone, next_runs: runs.map((t) => new Date(t).toISOString()) }, 200)
    },
  )

  route(
    app,
    s,
    {
      method: 'get',
      path: '/v1/cues',
      summary: 'List cues, newest first (offset paging, ?status=)',
      tags,
      query: ListCuesQuery,
      responses: { 200: { description: 'A page', schema: ListCuesResponse }, 422: err('Invalid') },
    },
    async (c, { query }) => c.json(await engine.cues.list(c.get('tenant'), query), 200),
  )

  route(
    app,
    s,
    {
      method: 'get',
      path: '/v1/cues/{id}',
      summary: 'A cue with its most recent executions (newest first)',
      tags,
      query: GetCueQuery,
      responses: { 200: { description: 'The cue', schema: CueDetail }, 404: err('cue_not_found') },
    },
    async (c, { params, query }) =>
      c.json(
        await engine.cues.get(c.get('tenant'), params.id!, {
          limit: query.execution_limit,
          offset: query.execution_offset,
        }),
        200,
      ),
  )

  route(
    app,
    s,
    {
      method: 'patch',
      path: '/v1/cues/{id}',
      summary: 'Edit a cue; status paused pauses it, active resumes it from now',
      tags,
      body: UpdateCueRequest,
      responses: {
        200: { description: 'The cue', schema: CueRecord },
        400: err('invalid_schedule'),
        404: err('cue_not_found'),
        409: err('duplicate_cue_name'),
        422: err('validation_error, invalid_timezone or webhook_url_not_allowed'),
      },
    },
    async (c, { body, params }) => {
      const tenant = c.get('tenant')
      let warning: string | null = null
      const record = await engine.cues.update(tenant, params.id!, async (current) => {
        const cfg = Cues.applyPatch(current.config, body)
        const urlChanged =
          cfg.transport !== current.config.transport || cfg.callback.url !== current.config.callback.url
        warning = urlChanged ? await checkCallback(cfg) : null
        if (cfg.transport === 'webhook') await tenants.markWebhookTenant(tenant.id)
        // A finished one-time cue given a new schedule is armed again.
        const rearm =
          body.schedule !== undefined && (current.status === 'completed' || current.status === 'failed')
        return { config: cfg, status: body.status ?? (rearm ? 'active' : current.status) }
      })
      return c.json({ ...record, warning }, 200)
    },
  )

  route(
    app,
    s,
    {
      method: 'delete',
      path: '/v1/cues/{id}',
      summary: 'Delete a cue (its executions stay)',
      tags,
      responses: { 204: { description: 'Deleted' }, 404: err('cue_not_found') },
    },
    async (c, { params }) => {
      await engine.cues.delete(c.get('tenant'), params.id!)
      return c.body(null, 204)
    },
  )

  route(
    app,
    s,
    {
      method: 'post',
      path: '/v1/cues/{id}/fire',
      summary: 'Fire a cue now (or at send_at), whatever its schedule or status',
      tags,
      body: FireCueRequest,
      responses: {
        200: { description: 'The execution it created', schema: FireCueResponse },
        400: err('payload_override_required or missing_required_payload_keys'),
        404: err('cue_not_found'),
      },
    },
    async (c, { body, params }) => {
      const tenant = c.get('tenant')
      const cue = await engine.cues.read(tenant, params.id!)
      return c.json(await engine.cues.fire(tenant, cue, body), 200)
    },
  )

  route(
    app,
    s,
    {
      method: 'get',
      path: '/v1/auth/webhook-secret',
      summary: "The tenant's webhook signing secret (created on first use)",
      tags: ['auth'],
      responses: { 200: { description: 'The secret', schema: WebhookSecretResponse } },
    },
    async (c) => c.json({ webhook_secret: await tenants.webhookSecret(c.get('tenant').id) }, 200),
  )

  const regenerate = {
    method: 'post' as const,
    summary: 'Replace the webhook signing secret; the previous one stops verifying at once',
    tags: ['auth'],
    responses: { 200: { description: 'The new secret', schema: RegenerateWebhookSecretResponse } },
  }
  // `/regenerate` is CueAPI's path; one hosted page documents the bare path as "rotate".
  for (const path of ['/v1/auth/webhook-secret/regenerate', '/v1/auth/webhook-secret']) {
    route(app, s, { ...regenerate, path }, async (c) => {
      const secret = await tenants.regenerateWebhookSecret(c.get('tenant').id)
      return c.json({ webhook_secret: secret, previous_secret_revoked: true as const }, 200)
    })
  }
}

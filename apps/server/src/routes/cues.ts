import { type CueConfig, Cues, firstFire, nextTick, type TenantRecord } from '@cuekit/engine'
import { ROUTES } from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'
import { checkWebhookUrl, WebhookUrlError } from '../ssrf.ts'
import { DISPATCHER_WORKER_PREFIX } from '../webhooks/dispatcher.ts'
import { withMailNote } from '../webhooks/mail.ts'

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

  /**
   * on_failure.webhook gets the callback's guard, refused as CueAPI refuses it (400
   * invalid_callback_url); an unresolved host is accepted with a warning, as a callback's is.
   */
  const checkFailureWebhook = async (cfg: CueConfig): Promise<string | null> => {
    const url = cfg.on_failure?.webhook
    if (!url) return null
    try {
      await checkWebhookUrl(url, {
        allowPrivate: config.webhookAllowPrivate,
        ...(s.resolve ? { resolve: s.resolve } : {}),
      })
      return null
    } catch (error) {
      if (error instanceof WebhookUrlError) {
        if (error.unresolved)
          return `on_failure.webhook: ${error.message} Its notices fail until it resolves.`
        throw new HttpError('invalid_callback_url', `on_failure.webhook: ${error.message}`)
      }
      throw error
    }
  }

  /** The dispatcher's coarse re-check visits tenants whose cues it delivers or notifies for. */
  const dispatched = (cfg: CueConfig): boolean =>
    cfg.transport === 'webhook' || !!cfg.on_failure?.webhook || (!!config.smtp && !!cfg.on_failure?.email)

  const workerWarning = async (tenant: TenantRecord, cfg: CueConfig): Promise<string | null> => {
    if (cfg.transport !== 'worker') return null
    const { workers } = await engine.workers(tenant, 200)
    // The webhook dispatcher claims like a worker but serves no worker task.
    return workers.some((w) => w.state === 'active' && !w.worker_id.startsWith(DISPATCHER_WORKER_PREFIX))
      ? null
      : 'No active workers found. Start a cueapi-worker to process this cue.'
  }

  route(app, s, ROUTES.createCue, async (c, { body }) => {
    const tenant = c.get('tenant')
    const cfg = Cues.configFromCreate(body)
    const failureWarning = await checkFailureWebhook(cfg)
    const warning = withMailNote(
      (await checkCallback(cfg)) ?? failureWarning ?? (await workerWarning(tenant, cfg)),
      body.on_failure,
      config.smtp,
    )
    if (dispatched(cfg)) await tenants.markWebhookTenant(tenant.id)
    const record = await engine.cues.create(tenant, cfg)
    return c.json({ ...record, warning }, 201)
  })

  route(app, s, ROUTES.previewCue, async (c, { body }) => {
    const { type, cron, at, timezone } = body.schedule
    // The scheduler's own functions and clock: a preview never disagrees with what will fire.
    const runs = [firstFire({ type, cron, at, timezone }, engine.cues.now())]
    while (type === 'recurring' && cron && runs.length < body.count) {
      const next = nextTick(cron, timezone, runs[runs.length - 1]!)
      if (next === null) break
      runs.push(next)
    }
    return c.json({ timezone, next_runs: runs.map((t) => new Date(t).toISOString()) }, 200)
  })

  route(app, s, ROUTES.listCues, async (c, { query }) =>
    c.json(await engine.cues.list(c.get('tenant'), query), 200),
  )

  route(app, s, ROUTES.getCue, async (c, { params, query }) => {
    const tenant = c.get('tenant')
    const detail = await engine.cues.get(tenant, params.id!, {
      limit: query.execution_limit,
      offset: query.execution_offset,
    })
    return c.json({ ...detail, stats: await engine.cueStats(tenant, detail.id) }, 200)
  })

  route(app, s, ROUTES.updateCue, async (c, { body, params }) => {
    const tenant = c.get('tenant')
    let warning: string | null = null
    const record = await engine.cues.update(tenant, params.id!, async (current) => {
      const cfg = Cues.applyPatch(current.config, body)
      const urlChanged =
        cfg.transport !== current.config.transport || cfg.callback.url !== current.config.callback.url
      const failureChanged = cfg.on_failure?.webhook !== current.config.on_failure?.webhook
      const failureWarning = failureChanged ? await checkFailureWebhook(cfg) : null
      warning = (urlChanged ? await checkCallback(cfg) : null) ?? failureWarning
      if (dispatched(cfg)) await tenants.markWebhookTenant(tenant.id)
      // A finished one-time cue given a new schedule is armed again.
      const rearm =
        body.schedule !== undefined && (current.status === 'completed' || current.status === 'failed')
      return { config: cfg, status: body.status ?? (rearm ? 'active' : current.status) }
    })
    return c.json({ ...record, warning: withMailNote(warning, body.on_failure, config.smtp) }, 200)
  })

  route(app, s, ROUTES.deleteCue, async (c, { params }) => {
    await engine.cues.delete(c.get('tenant'), params.id!)
    return c.body(null, 204)
  })

  route(app, s, ROUTES.fireCue, async (c, { body, params }) => {
    const tenant = c.get('tenant')
    const cue = await engine.cues.read(tenant, params.id!)
    return c.json(await engine.cues.fire(tenant, cue, body), 200)
  })
}

import { DuplicateEmailError, type TenantRecord } from '@cuekit/engine'
import { type MeResponse, ROUTES } from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { bearer, leaseTokenRequired } from '../auth.ts'
import type { AppEnv } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'
import { checkWebhookUrl, WebhookUrlError } from '../ssrf.ts'

/** The tenant's account: creating tenants, CueAPI registration, its settings, its API key and webhook secret. */
export function accountRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  const { tenants, config } = s

  route(app, s, ROUTES.createTenant, async (c, { body }) => {
    const { tenant, apiKey } = await tenants.create({
      name: body.name ?? null,
      partitions: config.partitions,
      requireLeaseToken: config.requireLeaseToken,
    })
    return c.json({ tenant_id: tenant.id, api_key: apiKey, name: tenant.name }, 201)
  })

  route(app, s, ROUTES.register, async (c, { body }) => {
    if (!config.openRegistration) throw new HttpError('registration_closed')
    try {
      const email = body.email.toLowerCase()
      const { tenant, apiKey } = await tenants.create({
        email,
        name: email,
        partitions: config.partitions,
        requireLeaseToken: config.requireLeaseToken,
      })
      return c.json({ api_key: apiKey, email, tenant_id: tenant.id, user_id: tenant.id }, 201)
    } catch (error) {
      if (error instanceof DuplicateEmailError) throw new HttpError('duplicate_email')
      throw error
    }
  })

  const me = async (t: TenantRecord): Promise<MeResponse> => ({
    tenant_id: t.id,
    user_id: t.id,
    email: t.email,
    name: t.name,
    created_at: new Date(t.createdAt).toISOString(),
    require_lease_token: leaseTokenRequired(t, config),
    alert_webhook_url: await tenants.alertWebhookUrl(t.id),
  })

  /**
   * The SSRF guard, as for cue webhooks, but a refusal is CueAPI's 400 and a host that does not
   * resolve is refused too: there is no cue response to carry a warning in.
   */
  const checkAlertUrl = async (url: string) => {
    try {
      await checkWebhookUrl(url, {
        allowPrivate: config.webhookAllowPrivate,
        ...(s.resolve ? { resolve: s.resolve } : {}),
      })
    } catch (error) {
      if (error instanceof WebhookUrlError) {
        throw new HttpError('invalid_alert_webhook_url', `alert_webhook_url: ${error.message}`)
      }
      throw error
    }
  }

  route(app, s, ROUTES.me, async (c) => c.json(await me(c.get('tenant')), 200))

  route(app, s, ROUTES.updateMe, async (c, { body }) => {
    const t = c.get('tenant')
    const alertUrl = body.alert_webhook_url
    if (alertUrl) await checkAlertUrl(alertUrl)
    const updated =
      body.require_lease_token === undefined
        ? t
        : await tenants.update(t.id, { requireLeaseToken: body.require_lease_token })
    // `""` and null clear it, as CueAPI's `""` does.
    if (alertUrl !== undefined) await tenants.setAlertWebhookUrl(t, alertUrl || null)
    // This server sees the change at once; others when their auth cache entry expires (10 s).
    s.auth.forgetTenant(t.id)
    return c.json(await me(updated ?? t), 200)
  })

  route(app, s, ROUTES.regenerateKey, async (c) => {
    const t = c.get('tenant')
    const apiKey = await tenants.regenerateKey(t.id, bearer(c.req.header('authorization'))!)
    s.auth.forgetTenant(t.id)
    // A concurrent regeneration (or one on another server) already replaced this key.
    if (apiKey === null) throw new HttpError('unauthorized', 'This API key has been revoked.')
    return c.json({ api_key: apiKey, previous_key_revoked: true as const }, 200)
  })

  route(app, s, ROUTES.webhookSecret, async (c) =>
    c.json({ webhook_secret: await tenants.webhookSecret(c.get('tenant').id) }, 200),
  )

  route(app, s, ROUTES.alertWebhookSecret, async (c) =>
    c.json({ alert_webhook_secret: await tenants.alertWebhookSecret(c.get('tenant').id) }, 200),
  )

  route(app, s, ROUTES.regenerateAlertWebhookSecret, async (c) => {
    if (c.req.header('x-confirm-destructive')?.toLowerCase() !== 'true') {
      throw new HttpError('confirmation_required')
    }
    const secret = await tenants.regenerateAlertWebhookSecret(c.get('tenant').id)
    return c.json({ alert_webhook_secret: secret, previous_secret_revoked: true as const }, 200)
  })

  // `/regenerate` is CueAPI's path; one hosted page documents the bare path as "rotate".
  for (const def of [ROUTES.regenerateWebhookSecret, ROUTES.rotateWebhookSecret]) {
    route(app, s, def, async (c) => {
      const secret = await tenants.regenerateWebhookSecret(c.get('tenant').id)
      return c.json({ webhook_secret: secret, previous_secret_revoked: true as const }, 200)
    })
  }
}

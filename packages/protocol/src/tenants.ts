import { z } from 'zod'
import { Timestamp } from './common.ts'

/** API keys: `cue_sk_` and 32 lowercase hex characters; stored only as SHA-256. */
export const API_KEY_PATTERN = /^cue_sk_[0-9a-f]{32}$/

export const CreateTenantRequest = z.strictObject({ name: z.string().min(1).max(200).optional() })
export type CreateTenantRequest = z.infer<typeof CreateTenantRequest>

export const CreateTenantResponse = z.object({
  tenant_id: z.string(),
  api_key: z.string(),
  name: z.string().nullable(),
})
export type CreateTenantResponse = z.infer<typeof CreateTenantResponse>

export const RegisterRequest = z.strictObject({ email: z.email().max(320) })
export type RegisterRequest = z.infer<typeof RegisterRequest>

export const RegisterResponse = z.object({
  api_key: z.string(),
  email: z.string(),
  tenant_id: z.string(),
  user_id: z.string(),
})
export type RegisterResponse = z.infer<typeof RegisterResponse>

export const MeResponse = z.object({
  tenant_id: z.string(),
  user_id: z.string(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  created_at: Timestamp,
  /**
   * Heartbeats, outcomes and releases must carry `lease_token` (422 `lease_token_required`
   * otherwise). Set per tenant; new tenants start with the server's CUEKIT_REQUIRE_LEASE_TOKEN.
   */
  require_lease_token: z.boolean(),
  /** Where alerts are posted, signed with the alert webhook secret (CueAPI); null when none. */
  alert_webhook_url: z.string().nullable(),
})
export type MeResponse = z.infer<typeof MeResponse>

/** `PATCH /v1/auth/me`: the tenant's own settings; fields left out keep their value. */
export const UpdateMeRequest = z.strictObject({
  require_lease_token: z.boolean().optional(),
  /** An http(s) URL that passes the SSRF guard (400 `invalid_alert_webhook_url`); `""` or null clears it. */
  alert_webhook_url: z.string().max(2048).nullable().optional(),
})
export type UpdateMeRequest = z.infer<typeof UpdateMeRequest>

export const RegenerateKeyResponse = z.object({ api_key: z.string(), previous_key_revoked: z.literal(true) })
export type RegenerateKeyResponse = z.infer<typeof RegenerateKeyResponse>

/** `GET /v1/auth/alert-webhook-secret`: 64 hex characters, created on first use (CueAPI). */
export const AlertWebhookSecretResponse = z.object({ alert_webhook_secret: z.string() })
export type AlertWebhookSecretResponse = z.infer<typeof AlertWebhookSecretResponse>

export const RegenerateAlertWebhookSecretResponse = z.object({
  alert_webhook_secret: z.string(),
  previous_secret_revoked: z.literal(true),
})
export type RegenerateAlertWebhookSecretResponse = z.infer<typeof RegenerateAlertWebhookSecretResponse>

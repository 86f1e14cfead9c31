import { type Engine, EngineError, type TenantRecord, type Tenants } from '@cuekit/engine'
import {
  ALERT_TASK,
  type Alert,
  type AlertWebhookBody,
  type ClaimedExecution,
  type CueFailedBody,
  EMAIL_TASK,
  type ExecutionRecord,
  NOTIFY_TASK,
  pythonJsonDumps,
} from '@cuekit/protocol'
import { signWebhook } from '@cuekit/protocol/webhook-signature'

// What the internal executions the engine queues (docs/outcomes.md#alerts) turn into: an alert
// for the tenant's alert webhook, a cue's `cue.failed` for its on_failure.webhook, a mail for
// on_failure.email. The dispatcher claims, sends and reports them like webhook deliveries.

/** The internal tasks besides `@webhook` the dispatcher serves. */
export const NOTICE_TASKS = [ALERT_TASK, NOTIFY_TASK, EMAIL_TASK] as const

/** The `kind` label of cuekit_webhook_deliveries_total for each notice task (docs/metrics.md). */
export const NOTICE_KIND: Readonly<Record<string, 'alert' | 'notify' | 'email'>> = {
  [ALERT_TASK]: 'alert',
  [NOTIFY_TASK]: 'notify',
  [EMAIL_TASK]: 'email',
}

/** CueAPI's alert and failure webhooks wait this long for an answer. */
export const NOTICE_TIMEOUT_MS = 10_000

/** One thing to send, or why there is nothing (a permanent failure: no retry helps). */
export type Notice =
  | { kind: 'http'; url: string; body: string; headers: Record<string, string> }
  | { kind: 'mail'; to: string; subject: string; text: string }
  | { kind: 'none'; reason: string }

export interface NoticeContext {
  engine: Engine
  tenants: Tenants
  now: () => number
}

/** Builds what an `@alert`, `@notify` or `@email` execution sends, from what is stored now. */
export async function buildNotice(
  ctx: NoticeContext,
  tenant: TenantRecord,
  item: ClaimedExecution,
): Promise<Notice> {
  const payload = (item.payload ?? {}) as { alert_id?: string; cue_id?: string; execution_id?: string }
  if (item.task === ALERT_TASK) return alertNotice(ctx, tenant, payload.alert_id ?? '')
  const failed = await read(() => ctx.engine.get(tenant, payload.execution_id ?? ''))
  if (!failed) return { kind: 'none', reason: `Execution ${payload.execution_id} no longer exists.` }
  const cue = await read(() => ctx.engine.cues.read(tenant, payload.cue_id ?? ''))
  const facts = failureFacts(failed, cue?.record.name ?? failed.cue_name ?? '', item.scheduled_for)
  if (item.task === NOTIFY_TASK) {
    const url = cue?.config.on_failure?.webhook
    if (!url) return { kind: 'none', reason: `Cue ${payload.cue_id} has no on_failure.webhook any more.` }
    // CueAPI posts it unsigned; Cuekit signs it with the tenant's webhook secret (the cue's own).
    const secret = await ctx.tenants.webhookSecret(tenant.id)
    return { kind: 'http', url, ...signed(pythonJsonDumps(facts), secret, ctx.now(), {}) }
  }
  if (item.task === EMAIL_TASK) {
    if (!tenant.email) return { kind: 'none', reason: 'The tenant has no email address.' }
    return { kind: 'mail', to: tenant.email, ...failureMail(facts) }
  }
  return { kind: 'none', reason: `Unknown internal task ${item.task}.` }
}

async function alertNotice(ctx: NoticeContext, tenant: TenantRecord, alertId: string): Promise<Notice> {
  const url = await ctx.tenants.alertWebhookUrl(tenant.id)
  if (!url) return { kind: 'none', reason: 'The tenant has no alert_webhook_url any more.' }
  const alert = await read(() => ctx.engine.alert(tenant, alertId))
  if (!alert) return { kind: 'none', reason: `Alert ${alertId} no longer exists.` }
  const secret = await ctx.tenants.alertWebhookSecret(tenant.id)
  const body = pythonJsonDumps(alertBody(alert))
  return {
    kind: 'http',
    url,
    ...signed(body, secret, ctx.now(), {
      'X-CueAPI-Alert-Id': alert.id,
      'X-CueAPI-Alert-Type': alert.alert_type,
    }),
  }
}

/** CueAPI's alert webhook body. */
export function alertBody(alert: Alert): AlertWebhookBody {
  return {
    alert_id: alert.id,
    alert_type: alert.alert_type,
    severity: alert.severity,
    message: alert.message,
    execution_id: alert.execution_id,
    cue_id: alert.cue_id,
    created_at: alert.created_at,
    metadata: alert.metadata,
  }
}

/** CueAPI's `cue.failed` body: the failed (or missed) execution as it stands. */
export function failureFacts(execution: ExecutionRecord, cueName: string, noticedAt: string): CueFailedBody {
  return {
    event: 'cue.failed',
    cue_id: execution.cue_id ?? '',
    cue_name: cueName,
    execution_id: execution.id,
    attempts: execution.attempts,
    last_http_status: execution.http_status,
    last_error: execution.error_message === null ? null : execution.error_message.slice(0, 500),
    failed_at: execution.finished_at ?? noticedAt,
    dashboard_url: null,
  }
}

export function failureMail(facts: CueFailedBody): { subject: string; text: string } {
  return {
    subject: `Cuekit: cue "${facts.cue_name}" failed (execution ${facts.execution_id})`,
    text: [
      `Cue "${facts.cue_name}" (${facts.cue_id}) failed.`,
      '',
      `Execution: ${facts.execution_id}`,
      `Attempts:  ${facts.attempts}`,
      `HTTP status of the last attempt: ${facts.last_http_status ?? 'none'}`,
      `Last error: ${facts.last_error ?? 'none'}`,
      `Failed at: ${facts.failed_at}`,
      '',
      'This mail was sent because the cue has on_failure.email set.',
    ].join('\n'),
  }
}

function signed(
  body: string,
  secret: string,
  nowMs: number,
  extra: Record<string, string>,
): { body: string; headers: Record<string, string> } {
  const timestamp = Math.floor(nowMs / 1000)
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'Cuekit-Webhook/1.0',
      'X-CueAPI-Timestamp': String(timestamp),
      'X-CueAPI-Signature': signWebhook(secret, timestamp, body),
      ...extra,
    },
  }
}

const GONE = new Set<string>(['execution_not_found', 'cue_not_found', 'alert_not_found'])

/** A read whose "not found" means the thing is gone (null); other failures propagate and retry. */
async function read<T>(get: () => Promise<T>): Promise<T | null> {
  try {
    return await get()
  } catch (error) {
    if (error instanceof EngineError && GONE.has(error.code)) return null
    throw error
  }
}

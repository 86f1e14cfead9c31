import { type Alert, type ListAlertsResponse, ROUTES } from '@cuekit/protocol'
import type { ListAlertsInput } from '../types.ts'
import type { Requester, RequestOptions } from './request.ts'

/**
 * `client.alerts`: what the server raised about outcomes (consecutive failures, failed
 * verifications, outcome deadlines passed), newest first.
 *
 * @example
 * ```ts
 * const { alerts } = await client.alerts.list({ acknowledged: false, alert_type: 'outcome_timeout' })
 * for (const a of alerts) await client.alerts.acknowledge(a.id)
 * ```
 */
export class AlertsApi {
  constructor(private readonly client: Requester) {}

  /** `GET /v1/alerts`: filters `alert_type`, `cue_id`, `acknowledged`, `since`; offset paging. */
  list(query: ListAlertsInput = {}, options?: RequestOptions): Promise<ListAlertsResponse> {
    const { acknowledged, ...rest } = query
    return this.client.send(ROUTES.listAlerts, {
      query: { ...rest, ...(acknowledged === undefined ? {} : { acknowledged: String(acknowledged) }) },
      safe: true,
      options,
    })
  }

  /** `GET /v1/alerts/{id}`. */
  get(alertId: string, options?: RequestOptions): Promise<Alert> {
    return this.client.send(ROUTES.getAlert, { params: { id: alertId }, safe: true, options })
  }

  /** `POST /v1/alerts/{id}/acknowledge`: idempotent (the first acknowledgement stands). */
  acknowledge(alertId: string, options?: RequestOptions): Promise<Alert> {
    return this.client.send(ROUTES.acknowledgeAlert, { params: { id: alertId }, safe: true, options })
  }
}

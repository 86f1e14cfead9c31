import type { ClaimedExecution } from '@cuekit/protocol'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export interface MetricsSources {
  waitingLongPolls: () => number
  /** Executions by status across tenants; called at scrape time. */
  executionsByStatus: () => Promise<Record<string, number>>
}

/** Prometheus metrics of one server (its own registry, so several apps can live in one test). */
export class Metrics {
  readonly registry = new Registry()
  readonly claims: Counter
  readonly leaseExpirations: Counter
  readonly claimWait: Histogram
  readonly reaperLag: Gauge
  readonly httpDuration: Histogram
  readonly cueFires: Counter
  readonly webhookDeliveries: Counter

  constructor(sources: MetricsSources) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'cuekit_process_' })
    this.claims = new Counter({
      name: 'cuekit_claims_total',
      help: 'Executions leased to workers.',
      registers,
    })
    this.leaseExpirations = new Counter({
      name: 'cuekit_lease_expirations_total',
      help: 'Leases that expired and were reaped (re-queued or failed).',
      labelNames: ['result'],
      registers,
    })
    this.claimWait = new Histogram({
      name: 'cuekit_claim_wait_seconds',
      help: 'How long claim requests waited before answering (long-poll).',
      labelNames: ['claimed'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 10, 20, 30],
      registers,
    })
    this.reaperLag = new Gauge({
      name: 'cuekit_reaper_lag_seconds',
      help: 'How late the last maintenance pass handled its most overdue partition.',
      registers,
    })
    this.httpDuration = new Histogram({
      name: 'cuekit_http_request_duration_seconds',
      help: 'HTTP request duration by route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    })
    this.cueFires = new Counter({
      name: 'cuekit_cue_fires_total',
      help: 'Executions fired by cue ticks on this server.',
      registers,
    })
    this.webhookDeliveries = new Counter({
      name: 'cuekit_webhook_deliveries_total',
      help: 'Webhook delivery attempts by result (success, failure, released).',
      labelNames: ['result'],
      registers,
    })
    new Gauge({
      name: 'cuekit_waiting_long_polls',
      help: 'Claim requests currently waiting on this server.',
      registers,
      collect() {
        this.set(sources.waitingLongPolls())
      },
    })
    new Gauge({
      name: 'cuekit_executions',
      help: 'Executions by status (all tenants).',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset()
        for (const [status, n] of Object.entries(await sources.executionsByStatus())) this.set({ status }, n)
      },
    })
  }

  /** Executions handed over to a worker. */
  claimed(executions: ClaimedExecution[]): void {
    this.claims.inc(executions.length)
  }
}

import type { ClaimedExecution } from '@cuekit/protocol'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { boundedTasks, type Snapshot, type TaskTotals } from './snapshot.ts'

export interface MetricsSources {
  waitingLongPolls: () => number
  /** The latest queue snapshot (see snapshot.ts); a scrape never reads storage itself. */
  snapshot: () => Snapshot | null
}

/** At most this many `task` label values per queue gauge; the rest are summed into `_other`. */
export const MAX_TASK_SERIES = 100

/** Prometheus metrics of one server (its own registry, so several apps can live in one test). */
export class Metrics {
  readonly registry = new Registry()
  readonly claims: Counter
  readonly leaseExpirations: Counter
  readonly claimWait: Histogram
  readonly leaseWait: Histogram
  readonly reaperLag: Gauge
  readonly httpDuration: Histogram
  readonly cueFires: Counter
  readonly webhookDeliveries: Counter

  constructor(sources: MetricsSources) {
    const registers = [this.registry]
    // prom-client's default names already start with process_ / nodejs_.
    collectDefaultMetrics({ register: this.registry, prefix: 'cuekit_' })
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
    this.leaseWait = new Histogram({
      name: 'cuekit_lease_wait_seconds',
      help: 'From an execution becoming due (enqueue, or its scheduled_for) to its first claim; first attempts only.',
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
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
      help:
        "The dispatcher's delivery attempts by kind (webhook, alert, notify, email) and result " +
        '(success, failure, released).',
      labelNames: ['kind', 'result'],
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
    this.snapshotGauges(sources.snapshot)
  }

  /** Executions handed over to a worker. */
  claimed(executions: ClaimedExecution[]): void {
    this.claims.inc(executions.length)
    // The leases of one claim share its grant time (one script's clock): parsed once, not per lease.
    let expires = ''
    let seconds = 0
    let claimedAt = 0
    for (const e of executions) {
      // A later attempt's scheduled_for is still the first one's: its wait would count the
      // earlier attempts' run time too.
      if (e.attempt !== 1) continue
      if (e.lease.expires_at !== expires || e.lease.lease_seconds !== seconds) {
        expires = e.lease.expires_at
        seconds = e.lease.lease_seconds
        claimedAt = Date.parse(expires) - seconds * 1000
      }
      this.leaseWait.observe(Math.max(0, claimedAt - Date.parse(e.scheduled_for)) / 1000)
    }
  }

  /** The gauges served from the queue snapshot (all tenants; per task, bounded). */
  private snapshotGauges(snapshot: () => Snapshot | null): void {
    const registers = [this.registry]
    const perTask = (name: string, help: string, value: (t: TaskTotals) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['task'],
        registers,
        collect() {
          this.reset()
          const s = snapshot()
          if (!s) return
          for (const [task, t] of boundedTasks(s.byTask, MAX_TASK_SERIES)) {
            const v = value(t)
            if (v !== null) this.set({ task }, v)
          }
        },
      })
    new Gauge({
      name: 'cuekit_executions',
      help: 'Executions by status, all tenants (from the snapshot).',
      labelNames: ['status'],
      registers,
      collect() {
        this.reset()
        for (const [status, n] of Object.entries(snapshot()?.byStatus ?? {})) this.set({ status }, n)
      },
    })
    perTask(
      'cuekit_task_pending_executions',
      'Pending executions per task, all tenants (from the snapshot).',
      (t) => t.pending,
    )
    perTask(
      'cuekit_task_leased_executions',
      'Executions leased to workers (delivering) per task, all tenants (from the snapshot).',
      (t) => t.leased,
    )
    perTask(
      'cuekit_task_oldest_pending_age_seconds',
      'Age of the oldest pending execution per task, any tenant (from the snapshot).',
      (t) => (t.oldestPendingAgeMs === null ? null : t.oldestPendingAgeMs / 1000),
    )
    new Gauge({
      name: 'cuekit_metrics_snapshot_age_seconds',
      help: 'Age of the snapshot the queue gauges come from (-1 before the first one).',
      registers,
      collect() {
        const s = snapshot()
        this.set(s ? (Date.now() - s.takenAt) / 1000 : -1)
      },
    })
    new Gauge({
      name: 'cuekit_metrics_snapshot_duration_seconds',
      help: 'How long the walk over all tenants that made the current snapshot took.',
      registers,
      collect() {
        const s = snapshot()
        if (s) this.set(s.durationMs / 1000)
      },
    })
  }
}

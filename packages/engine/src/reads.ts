import type {
  ClaimableResponse,
  ExecutionRecord,
  ExecutionSummary,
  LeaseRecord,
  ListExecutionsResponse,
  ListLeasesResponse,
  ListQueuesResponse,
  ListWorkersResponse,
  QueueCounts,
  WorkerRecord,
} from '@cuekit/protocol'
import {
  EXECUTION_STATUSES,
  ExecutionStatus,
  LIMITS,
  type OutcomeState,
  type StatusFilter,
  type TriggeredBy,
} from '@cuekit/protocol'
import type { EngineCore, TenantRef } from './core.ts'
import {
  dueAt,
  fieldsOf,
  head,
  int,
  iso,
  type Row,
  rows,
  toLease,
  toRecord,
  toSummary,
  workerState,
} from './decode.ts'
import { EngineError } from './errors.ts'
import { resultTypeDigest } from './executions.ts'
import type { PartitionRef } from './keys.ts'
import {
  CLAIMABLE,
  CLAIMABLE_ARGS,
  CLAIMABLE_REPLY,
  GET_ARGS,
  GET_REPLY,
  LEASE,
  LEASES_ARGS,
  LEASES_REPLY,
  LIST_ARGS,
  LIST_REPLY,
  LISTED,
  OK_REPLY,
  QUEUES_REPLY,
  RATE_FIELDS,
  RATE_ITEM,
  RATES_ARGS,
  RATES_REPLY,
  SEP,
  WORKER_BEAT_ARGS,
  WORKER_DELETE_ARGS,
  WORKER_DELETE_REPLY,
  WORKER_FIELDS,
  WORKER_ITEM,
  WORKERS_ARGS,
  WORKERS_REPLY,
} from './layouts/index.ts'
import { args } from './scripts.ts'

export interface ListQuery {
  status?: StatusFilter | undefined
  status__in?: StatusFilter[] | undefined
  task?: string | undefined
  cue_id?: string | undefined
  worker_id?: string | undefined
  outcome_state?: OutcomeState | undefined
  triggered_by?: TriggeredBy | undefined
  /** CueAPI hosted: with (true) or without (false) evidence in the outcome */
  has_evidence?: boolean | undefined
  /** CueAPI hosted: the outcome's evidence result_type, exactly */
  result_type?: string | undefined
  limit?: number | undefined
  offset?: number | undefined
  cursor?: string | undefined
}

export interface LeaseQuery {
  worker_id?: string | undefined
  task?: string | undefined
  expiring_within_seconds?: number | undefined
  limit?: number | undefined
}

/** One minute of a tenant's activity (summed over its partitions). */
export type RateMinute = { at: string } & Record<(typeof RATE_FIELDS)[number], number>

const LIST_SCAN = 2000

type Item = { pos: number; created: number; summary: ExecutionSummary; p: number }
const LEASE_SCAN = 5000

/** What ops and clients read: executions, leases, queues, workers, activity. Nothing here writes state. */
export class Reads {
  constructor(private readonly core: EngineCore) {}

  async get(tenant: TenantRef, executionId: string): Promise<ExecutionRecord> {
    const reply = await this.core.run(
      'get',
      this.core.refOf(tenant, executionId),
      args(GET_ARGS, { id: executionId }),
    )
    const h = head(reply, GET_REPLY)
    return toRecord(
      { id: executionId, record: h.str('record'), payload: h.str('payload'), outcome: h.str('outcome') },
      h.int('now'),
      this.core.defaultBackoff,
    )
  }

  /** A LISTED item (list, cue_get) as a summary. */
  summary(row: Row<(typeof LISTED.fields)[number]>, now: number): ExecutionSummary {
    return toSummary(
      {
        id: row.str('id'),
        record: row.str('record'),
        payload: row.str('payload'),
        outcome: row.str('outcome'),
      },
      now,
      this.core.defaultBackoff,
    )
  }

  /**
   * Newest first, filtered; offset paging with a total (CueAPI), or a cursor carrying one log
   * position per partition. The total comes from the counters when only statuses and a task
   * filter; other filters count by scanning the log (in bounded steps). oldest_claimed_at is
   * taken from what the listing reads (docs/outcomes.md#listing-by-cueapi-status-names): the whole
   * filtered set when it scans to count, the live leases for `delivering`, else the matches read
   * for this answer (the newest offset + limit).
   */
  async list(tenant: TenantRef, query: ListQuery): Promise<ListExecutionsResponse> {
    const limit = query.limit ?? 20
    const offset = query.offset ?? 0
    const statuses = query.status__in ?? (query.status ? [query.status] : [])
    const countable =
      statuses.every((s) => (ExecutionStatus.options as readonly string[]).includes(s)) &&
      !query.cue_id &&
      !query.worker_id &&
      !query.outcome_state &&
      !query.triggered_by &&
      query.has_evidence === undefined &&
      !query.result_type
    const starts = decodeCursor(query.cursor, tenant.partitions)
    const single = tenant.partitions === 1
    const filters = {
      statuses: statuses.join(','),
      task: query.task ?? '',
      cue_id: query.cue_id ?? '',
      worker_id: query.worker_id ?? '',
      outcome_state: query.outcome_state ?? '',
      triggered_by: query.triggered_by ?? '',
      has_evidence: query.has_evidence === undefined ? '' : query.has_evidence ? '1' : '0',
      result_type: query.result_type ? resultTypeDigest(query.result_type) : '',
    }
    type Item = { p: number; pos: number; created: number; summary: ExecutionSummary }
    const scans = await Promise.all(
      starts.map(async (start, p) => {
        if (start === null)
          return {
            items: [] as Item[],
            matched: 0,
            next: null as number | null,
            oldest: null as number | null,
          }
        // One partition skips in the script; several merge, so each brings its first offset + limit.
        const got = await this.scan(this.core.ref(tenant, p), start, {
          want: single ? limit : offset + limit,
          skip: single ? offset : 0,
          countAll: !countable,
          filters,
        })
        return { ...got, items: got.items.map((i) => ({ ...i, p })) }
      }),
    )
    const items = scans.flatMap((s) => s.items)
    items.sort((a, b) => b.created - a.created || b.pos - a.pos)
    const taken = single ? items : items.slice(0, offset + limit)
    const page = single ? items : items.slice(offset, offset + limit)
    const total = countable
      ? await this.countMatching(tenant, statuses, query.task)
      : scans.reduce((n, s) => n + s.matched, 0)
    // A partition resumes after the last item taken from it, or at its first item not taken.
    const positions = starts.map((start, p) => {
      if (start === null) return null
      const fromP = items.filter((i) => i.p === p)
      const mine = taken.filter((i) => i.p === p)
      const last = mine.at(-1)
      if (mine.length < fromP.length) return last ? last.pos - 1 : fromP[0]!.pos
      // Everything it brought was taken: counting scanned to the end, so more matches exist only
      // if it counted more than it brought; otherwise it resumes where its scan stopped.
      if (!countable) {
        const skipped = single ? offset : 0
        return scans[p]!.matched > skipped + fromP.length && last ? last.pos - 1 : null
      }
      return scans[p]!.next
    })
    const more = positions.some((pos) => pos !== null)
    const delivering = countable && statuses.length === 1 && statuses[0] === 'delivering'
    const oldest = delivering
      ? await this.oldestLease(tenant, query.task)
      : !countable || single
        ? minOf(scans.map((s) => s.oldest))
        : minOf(taken.map((i) => (i.summary.claimed_at ? Date.parse(i.summary.claimed_at) : null)))
    return {
      executions: page.map((i) => i.summary),
      total,
      limit,
      offset,
      has_more: query.cursor === undefined ? offset + page.length < total : more,
      next_cursor: more ? encodeCursor(positions) : null,
      oldest_claimed_at: oldest === null ? null : iso(oldest),
    }
  }

  /**
   * The earliest claim among live leases (at most LEASE_SCAN per partition, earliest expiry first),
   * answered by the leases script alone (limit 0: no rows).
   */
  private async oldestLease(tenant: TenantRef, task: string | undefined): Promise<number | null> {
    const replies = await Promise.all(
      this.core.partitions(tenant).map((ref) =>
        this.core.run(
          'leases',
          ref,
          args(LEASES_ARGS, {
            limit: 0,
            worker_id: '',
            task: task ?? '',
            within_ms: '',
            max_scan: LEASE_SCAN,
          }),
        ),
      ),
    )
    return minOf(
      replies.map((reply) => {
        const oldest = head(reply, LEASES_REPLY).str('oldest_claimed_at')
        return oldest === '' ? null : Number(oldest)
      }),
    )
  }

  /** A partition's first `want` matches from `start` (after `skip`), and how many match in all. */
  private async scan(
    ref: PartitionRef,
    start: number,
    o: { want: number; skip: number; countAll: boolean; filters: Record<string, string> },
  ): Promise<{ items: Omit<Item, 'p'>[]; matched: number; next: number | null; oldest: number | null }> {
    const items: Omit<Item, 'p'>[] = []
    let matched = 0
    let oldest: number | null = null
    let skip = o.skip
    let from: number | null = start
    while (from !== null && (items.length < o.want || o.countAll)) {
      const reply = await this.core.run(
        'list',
        ref,
        args(LIST_ARGS, {
          start: from < 0 ? '' : from,
          limit: o.want - items.length,
          skip,
          count_all: o.countAll ? '1' : '0',
          max_scan: LIST_SCAN,
          statuses: o.filters.statuses ?? '',
          task: o.filters.task ?? '',
          cue_id: o.filters.cue_id ?? '',
          worker_id: o.filters.worker_id ?? '',
          outcome_state: o.filters.outcome_state ?? '',
          triggered_by: o.filters.triggered_by ?? '',
          has_evidence: o.filters.has_evidence ?? '',
          result_type: o.filters.result_type ?? '',
        }),
      )
      const h = head(reply, LIST_REPLY)
      matched += h.int('matched')
      if (h.str('oldest_claimed_at') !== '') oldest = minOf([oldest, h.int('oldest_claimed_at')])
      skip = Math.max(0, skip - h.int('matched'))
      for (const row of rows(reply, LIST_REPLY, LISTED, h.int('count'))) {
        const summary = this.summary(row, h.int('now'))
        items.push({ pos: row.int('position'), created: Date.parse(summary.created_at), summary })
      }
      from = h.str('next') === '' ? null : h.int('next')
    }
    return { items, matched, next: from, oldest }
  }

  /** Executions of these statuses (all, when none) and task, from the counters. */
  private async countMatching(
    tenant: TenantRef,
    statuses: string[],
    task: string | undefined,
  ): Promise<number> {
    const { queues } = await this.queues(tenant)
    const wanted = statuses.length ? statuses : ExecutionStatus.options
    return queues
      .filter((q) => task === undefined || q.task === task)
      .reduce((n, q) => n + wanted.reduce((m, s) => m + ((q as Record<string, unknown>)[s] as number), 0), 0)
  }

  /** Live leases, earliest expiry first, across the tenant's partitions. */
  async leases(tenant: TenantRef, query: LeaseQuery): Promise<ListLeasesResponse> {
    const limit = query.limit ?? 100
    let now = 0
    const all: LeaseRecord[] = []
    await Promise.all(
      this.core.partitions(tenant).map(async (ref) => {
        const reply = await this.core.run(
          'leases',
          ref,
          args(LEASES_ARGS, {
            limit,
            worker_id: query.worker_id ?? '',
            task: query.task ?? '',
            within_ms:
              query.expiring_within_seconds === undefined
                ? ''
                : Math.round(query.expiring_within_seconds * 1000),
            max_scan: LEASE_SCAN,
          }),
        )
        const h = head(reply, LEASES_REPLY)
        now = Math.max(now, h.int('now'))
        for (const row of rows(reply, LEASES_REPLY, LEASE, h.int('count')))
          all.push(toLease(row, h.int('now')))
      }),
    )
    all.sort((a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at))
    return { leases: all.slice(0, limit), server_time: iso(now || this.core.redisNow()) }
  }

  /** Per task: counts by status and the age of the oldest pending execution. */
  async queues(tenant: TenantRef): Promise<ListQueuesResponse> {
    const byTask = new Map<string, QueueCounts & { since: number | null }>()
    let now = 0
    const row = (task: string) => {
      let q = byTask.get(task)
      if (!q) {
        const counts = Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, 0])) as Record<
          ExecutionStatus,
          number
        >
        q = { task, ...counts, oldest_pending_age_ms: null, since: null }
        byTask.set(task, q)
      }
      return q
    }
    await Promise.all(
      this.core.partitions(tenant).map(async (ref) => {
        const h = head(await this.core.run('queues', ref, []), QUEUES_REPLY)
        now = Math.max(now, h.int('now'))
        const counts = h.list('counts')
        for (let i = 0; i + 1 < counts.length; i += 2) {
          const [task, status] = String(counts[i]).split(SEP) as [string, keyof QueueCounts]
          const q = row(task)
          if (status in q && typeof q[status] === 'number') (q[status] as number) += int(counts[i + 1])
        }
        const oldest = h.list('oldest')
        for (let i = 0; i + 1 < oldest.length; i += 2) {
          const q = row(String(oldest[i]))
          const since = int(oldest[i + 1])
          q.since = q.since === null ? since : Math.min(q.since, since)
        }
      }),
    )
    const queues = [...byTask.values()]
      .map(({ since, ...q }) => ({
        ...q,
        oldest_pending_age_ms: since === null ? null : Math.max(0, now - since),
      }))
      .filter((q) => Object.values(q).some((v) => typeof v === 'number' && v > 0))
      .sort((a, b) => a.task.localeCompare(b.task))
    return { queues }
  }

  /** Pending executions, informational (nothing is leased). */
  async claimable(
    tenant: TenantRef,
    task?: string,
    limit: number = LIMITS.maxClaimableListing,
  ): Promise<ClaimableResponse> {
    const executions: ClaimableResponse['executions'] = []
    for (const ref of this.core.partitions(tenant)) {
      if (executions.length >= limit) break
      const tasks = task === undefined ? [] : [task]
      const reply = await this.core.run('claimable', ref, [
        ...args(CLAIMABLE_ARGS, { limit: limit - executions.length, task_count: tasks.length }),
        ...tasks,
      ])
      for (const row of rows(reply, CLAIMABLE_REPLY, CLAIMABLE, head(reply, CLAIMABLE_REPLY).int('count'))) {
        executions.push({
          execution_id: row.str('id'),
          task: row.str('task'),
          payload: JSON.parse(row.str('payload')),
          scheduled_for: dueAt(row.str('scheduled_for'), row.str('created_at')),
          attempt: row.int('attempt'),
          cue_id: row.str('cue_id') || null,
          cue_name: row.str('cue_name') || null,
        })
      }
    }
    return { executions }
  }

  /** A worker's own heartbeat; recorded in partition 0, where its handlers live. */
  async workerHeartbeat(tenant: TenantRef, workerId: string, handlers?: string[]): Promise<string> {
    const reply = await this.core.run(
      'worker_beat',
      this.core.ref(tenant, 0),
      args(WORKER_BEAT_ARGS, {
        worker_id: workerId,
        handlers: handlers === undefined ? '' : JSON.stringify(handlers),
      }),
    )
    return iso(head(reply, OK_REPLY).int('now'))
  }

  async workers(tenant: TenantRef, limit = 1000): Promise<ListWorkersResponse> {
    type Merged = WorkerRecord & { seen: number; lostAt: number }
    const merged = new Map<string, Merged>()
    const F = WORKER_FIELDS.names
    let now = 0
    await Promise.all(
      this.core.partitions(tenant).map(async (ref) => {
        const reply = await this.core.run('workers', ref, args(WORKERS_ARGS, { limit }))
        const h = head(reply, WORKERS_REPLY)
        now = Math.max(now, h.int('now'))
        for (const row of rows(reply, WORKERS_REPLY, WORKER_ITEM, h.int('count'))) {
          const id = row.str('id')
          const f = fieldsOf(row.list('fields'))
          const w: Merged = merged.get(id) ?? {
            worker_id: id,
            handlers: [],
            last_seen_at: '',
            state: 'dead',
            in_flight: 0,
            claimed: 0,
            completed: 0,
            failed: 0,
            lost_at: null,
            lost_execution_id: null,
            heartbeat_status: 'dead',
            last_heartbeat: '',
            seconds_since_heartbeat: 0,
            seen: 0,
            lostAt: 0,
          }
          w.seen = Math.max(w.seen, row.int('seen'))
          const handlers = f[F.handlers]
          if (handlers) w.handlers = JSON.parse(handlers) as string[]
          // Counters only ever grow (one HINCRBY each); what is in flight is what has not ended.
          w.in_flight += Math.max(
            0,
            int(f[F.claimed]) -
              int(f[F.completed]) -
              int(f[F.failed]) -
              int(f[F.released]) -
              int(f[F.cancelled]),
          )
          w.claimed += int(f[F.claimed])
          w.completed += int(f[F.completed])
          w.failed += int(f[F.failed])
          if (int(f[F.lost_at]) > w.lostAt) {
            w.lostAt = int(f[F.lost_at])
            w.lost_execution_id = f[F.lost_execution] ?? null
          }
          merged.set(id, w)
        }
      }),
    )
    const workers = [...merged.values()]
      .sort((a, b) => b.seen - a.seen)
      .map(({ seen, lostAt, ...w }): WorkerRecord => {
        const state = workerState(seen, lostAt, now)
        return {
          ...w,
          last_seen_at: iso(seen),
          state,
          lost_at: lostAt > 0 ? iso(lostAt) : null,
          lost_execution_id: lostAt > 0 ? w.lost_execution_id : null,
          // CueAPI's liveness names: a lost worker is one that stopped answering.
          heartbeat_status: state === 'lost' ? 'stale' : state,
          last_heartbeat: iso(seen),
          seconds_since_heartbeat: Math.max(0, Math.floor((now - seen) / 1000)),
        }
      })
    return { workers }
  }

  /** Forgets a worker everywhere; false when it was unknown. */
  async deleteWorker(tenant: TenantRef, workerId: string): Promise<boolean> {
    const replies = await Promise.all(
      this.core
        .partitions(tenant)
        .map((ref) => this.core.run('worker_delete', ref, args(WORKER_DELETE_ARGS, { worker_id: workerId }))),
    )
    return replies.some((r) => head(r, WORKER_DELETE_REPLY).int('existed') === 1)
  }

  /** Per-minute activity of the last `minutes` minutes (oldest first), summed over partitions. */
  async rates(tenant: TenantRef, minutes: number): Promise<{ now: string; minutes: RateMinute[] }> {
    const last = Math.floor(this.core.redisNow() / 60_000)
    const first = last - minutes + 1
    const sums = Array.from({ length: minutes }, (_, i) => {
      const m = { at: iso((first + i) * 60_000) } as RateMinute
      for (const f of RATE_FIELDS) m[f] = 0
      return m
    })
    let now = 0
    await Promise.all(
      this.core.partitions(tenant).map(async (ref) => {
        const reply = await this.core.run(
          'rates',
          ref,
          args(RATES_ARGS, { first_minute: first, count: minutes }),
        )
        const h = head(reply, RATES_REPLY)
        now = Math.max(now, h.int('now'))
        rows(reply, RATES_REPLY, RATE_ITEM, minutes).forEach((row, i) => {
          for (const f of RATE_FIELDS) sums[i]![f] += row.int(f)
        })
      }),
    )
    return { now: iso(now), minutes: sums }
  }

  /** Marks the tenant's partitions so scripts publish execution events for `ttlSeconds`. */
  async streamEvents(tenant: TenantRef, ttlSeconds: number): Promise<void> {
    await Promise.all(
      this.core
        .partitions(tenant)
        .map((ref) => this.core.redis.set(this.core.keys.eventSubscribers(ref), '1', 'EX', ttlSeconds)),
    )
  }
}

function encodeCursor(positions: (number | null)[]): string {
  return positions.map((p) => (p === null ? 'x' : String(p))).join('.')
}

/** `-1` means "start from the newest"; null means "this partition is exhausted". */
function decodeCursor(cursor: string | undefined, partitions: number): (number | null)[] {
  if (cursor === undefined) return Array.from({ length: partitions }, () => -1)
  const parts = cursor.split('.')
  if (parts.length !== partitions || !parts.every((p) => p === 'x' || /^\d{1,15}$/.test(p))) {
    throw new EngineError('invalid_cursor')
  }
  return parts.map((p) => (p === 'x' ? null : Number(p)))
}

/** The smallest of these times, null when there is none. */
function minOf(times: (number | null)[]): number | null {
  const known = times.filter((t): t is number => t !== null && !Number.isNaN(t))
  return known.length === 0 ? null : Math.min(...known)
}

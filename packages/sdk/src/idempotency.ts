import { randomBytes } from 'node:crypto'

/**
 * Where handlers remember which executions they already processed. Keys are execution IDs (or
 * anything derived from them); values are short strings.
 *
 * @example
 * ```ts
 * // A store on your own database, e.g. a table with a unique key and an expiry column:
 * const store: IdempotencyStore = {
 *   setIfAbsent: async (key, value, ttl) => (await db.insertIgnore('idem', { key, value, ttl })) === 1,
 *   set: async (key, value, ttl) => db.upsert('idem', { key, value, ttl }),
 *   get: async (key) => (await db.find('idem', key))?.value ?? null,
 *   delete: async (key) => db.remove('idem', key),
 * }
 * ```
 */
export interface IdempotencyStore {
  /** Stores `value` under `key` unless the key exists; true when this call stored it. Atomic. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>
  /** Stores `value` under `key`, replacing what was there. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>
  get(key: string): Promise<string | null>
  delete(key: string): Promise<void>
}

/**
 * The subset of a Redis client the {@link RedisIdempotencyStore} uses; ioredis and node-redis v4
 * (with `legacyMode` off, through a tiny adapter) fit, without the SDK depending on either.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * const redis: RedisLike = new Redis(process.env.REDIS_URL)
 * ```
 */
export interface RedisLike {
  set(key: string, value: string, ex: 'EX', seconds: number, nx: 'NX'): Promise<string | null>
  set(key: string, value: string, ex: 'EX', seconds: number): Promise<string | null>
  get(key: string): Promise<string | null>
  del(key: string): Promise<number>
}

/**
 * An {@link IdempotencyStore} on Redis: `SET key value EX ttl NX` marks an execution as taken, so
 * every worker process sharing the Redis agrees on which executions are done.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { RedisIdempotencyStore, once } from '@cuekit/sdk'
 *
 * const store = new RedisIdempotencyStore(new Redis(process.env.REDIS_URL), { prefix: 'billing:done:' })
 * // in a handler:
 * await once(store, ctx.executionId, () => chargeCard(ctx.payload))
 * ```
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly prefix: string

  constructor(
    private readonly redis: RedisLike,
    options: { prefix?: string } = {},
  ) {
    this.prefix = options.prefix ?? 'cuekit:idem:'
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.prefix + key, value, 'EX', seconds(ttlSeconds), 'NX')) === 'OK'
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'EX', seconds(ttlSeconds))
  }

  get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key)
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key)
  }
}

function seconds(ttl: number): number {
  return Math.max(1, Math.ceil(ttl))
}

/**
 * An {@link IdempotencyStore} in this process's memory: for tests, and for a single worker process
 * whose duplicates only matter within its lifetime. Expired keys are swept as new ones arrive.
 *
 * @example
 * ```ts
 * const store = new MemoryIdempotencyStore()
 * await once(store, ctx.executionId, () => sendEmail(ctx.payload))
 * ```
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>()
  private readonly now: () => number
  private writes = 0

  /** `now` (ms) is injectable so tests can move time. */
  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now
  }

  /** Live keys (expired ones not yet swept are not counted). */
  get size(): number {
    let n = 0
    const now = this.now()
    for (const entry of this.entries.values()) if (entry.expiresAt > now) n++
    return n
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if (this.live(key) !== undefined) return false
    this.write(key, value, ttlSeconds)
    return true
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.write(key, value, ttlSeconds)
  }

  async get(key: string): Promise<string | null> {
    return this.live(key) ?? null
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key)
  }

  private live(key: string): string | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key)
      return undefined
    }
    return entry.value
  }

  private write(key: string, value: string, ttlSeconds: number): void {
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 })
    // Sweep now and then so keys nobody reads again do not pile up.
    if (++this.writes % 1000 === 0) {
      const now = this.now()
      for (const [k, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(k)
    }
  }
}

/**
 * Another process is running the same execution right now (its lease expired and the execution
 * was reclaimed while it kept working). Thrown by {@link once}; the handler fails this attempt and
 * the retry finds the work done, or the other process's marker expired.
 *
 * @example
 * ```ts
 * try {
 *   await once(store, ctx.executionId, work)
 * } catch (error) {
 *   if (error instanceof DuplicateInProgressError) console.warn('a zombie worker holds', ctx.executionId)
 *   throw error
 * }
 * ```
 */
export class DuplicateInProgressError extends Error {
  override name = 'DuplicateInProgressError'
}

/**
 * The answer of {@link once}: whether `fn` ran now, and its value (when skipped: the value stored
 * by the run that did the work, if it was JSON).
 *
 * @example
 * ```ts
 * const r: OnceResult<string> = await once(store, ctx.executionId, () => sendEmail())
 * if (r.status === 'skipped') console.log('already sent as', r.value)
 * ```
 */
export type OnceResult<T> = { status: 'executed'; value: T } | { status: 'skipped'; value: T | undefined }

/**
 * Options of {@link once}.
 *
 * @example
 * ```ts
 * await once(store, ctx.executionId, work, { ttlSeconds: 30 * 86_400, lockSeconds: 120 })
 * ```
 */
export interface OnceOptions {
  /** How long a finished key is remembered. Default 7 days (Cuekit's retention). */
  ttlSeconds?: number
  /**
   * How long a started-but-unfinished key blocks duplicates; after that a crashed run no longer
   * blocks the retry. Default 15 minutes; keep it above the handler's longest run.
   */
  lockSeconds?: number
}

const DONE = 'done:'
const RUNNING = 'running:'

/**
 * Check-before-act with a store: runs `fn` only if no earlier delivery of this execution finished
 * it. The key is taken atomically before `fn` starts, so two deliveries racing each other (a
 * worker whose lease expired while it kept going, and the worker that reclaimed the execution)
 * cannot both run it. If `fn` throws, the key is freed so the retry runs it again.
 *
 * The one gap left is a process dying after `fn`'s side effect but before the key is marked done:
 * the retry waits `lockSeconds`, then runs `fn` again. Close it with an idempotent side effect (an
 * upsert keyed by the execution ID, or an idempotency key sent to the API you call).
 *
 * @example
 * ```ts
 * import { MemoryIdempotencyStore, once } from '@cuekit/sdk'
 *
 * const store = new MemoryIdempotencyStore()
 * const handler = async (ctx: HandlerContext<{ to: string }>) => {
 *   const r = await once(store, ctx.executionId, () => mailer.send(ctx.payload.to))
 *   return r.value
 * }
 * ```
 */
export async function once<T>(
  store: IdempotencyStore,
  key: string,
  fn: () => T | Promise<T>,
  options: OnceOptions = {},
): Promise<OnceResult<T>> {
  const ttl = options.ttlSeconds ?? 7 * 86_400
  const lock = options.lockSeconds ?? 15 * 60
  const marker = `${RUNNING}${randomBytes(8).toString('hex')}`
  if (!(await store.setIfAbsent(key, marker, lock))) {
    const existing = await store.get(key)
    if (existing?.startsWith(DONE)) return { status: 'skipped', value: decode<T>(existing) }
    if (existing !== null) {
      throw new DuplicateInProgressError(`${key} is being processed by another run right now`)
    }
    // The other run freed the key between our two calls: take it again, once.
    if (!(await store.setIfAbsent(key, marker, lock))) {
      throw new DuplicateInProgressError(`${key} is being processed by another run right now`)
    }
  }
  let value: T
  try {
    value = await fn()
  } catch (error) {
    if ((await store.get(key)) === marker) await store.delete(key)
    throw error
  }
  await store.set(key, DONE + encode(value), ttl)
  return { status: 'executed', value }
}

function encode(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return ''
  }
}

function decode<T>(stored: string): T | undefined {
  const text = stored.slice(DONE.length)
  if (text === '') return undefined
  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}

/**
 * Builds the upsert that makes a write happen once per execution: a table with a unique
 * `execution_id` column and `INSERT … ON CONFLICT (execution_id) DO NOTHING` (PostgreSQL and
 * SQLite). Identifiers are quoted; values go in as `$1, $2, …` parameters in `columns` order.
 * When the statement reports 0 rows, an earlier delivery already did the write.
 *
 * @example
 * ```ts
 * const sql = insertOnceSql('payments', ['execution_id', 'user_id', 'amount_cents'])
 * // INSERT INTO "payments" ("execution_id", "user_id", "amount_cents") VALUES ($1, $2, $3)
 * //   ON CONFLICT ("execution_id") DO NOTHING
 * const { rowCount } = await pg.query(sql, [ctx.executionId, userId, 1999])
 * if (rowCount === 0) return 'already recorded'
 * ```
 */
export function insertOnceSql(table: string, columns: string[], conflictColumn = 'execution_id'): string {
  if (columns.length === 0) throw new RangeError('insertOnceSql needs at least one column')
  if (!columns.includes(conflictColumn)) {
    throw new RangeError(`columns must include the conflict column ${conflictColumn}`)
  }
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
  // A schema-qualified table name quotes each part.
  const target = table.split('.').map(quote).join('.')
  const placeholders = columns.map((_, i) => `$${i + 1}`).join(', ')
  return `INSERT INTO ${target} (${columns.map(quote).join(', ')}) VALUES (${placeholders}) ON CONFLICT (${quote(conflictColumn)}) DO NOTHING`
}

-- Shared helpers, prepended to every partition script by scripts.ts (after the ARGV header and
-- the key builders from keys.ts). Scripts must run unchanged on Redis (Lua 5.1, doubles) and on
-- ioredis-mock (fengari: Lua 5.3 with 32-bit integers), hence:
--   * numbers go to redis.call as fmt() strings: exact for ms timestamps and 2^53-range scores;
--   * no cjson/cmsgpack/redis.error_reply: scripts return flat arrays whose first item is a code.
--
-- Execution hash fields: t task, s status, a attempt, m max attempts, pr priority (absent = 0),
-- bo backoff seconds csv, ls lease seconds, c created, u updated, sf scheduled for (absent = c),
-- due next attempt time, f finished, pl inline payload
-- (px = 1: payload in its own key), ep epoch, the lease: tok w ca x lms hb lh (kept after the
-- lease ends: only status `delivering` makes them a lease; `w` is then the last worker), cx cancel
-- requested, rl attempts released (not counted against max attempts), rw how the latest attempt's
-- report was authorised (lease_token, worker_id, api_key), cue cn cue id and name, tb triggered by (scheduled, manual_fire, replay; absent =
-- enqueued), rf replayed from, ik idempotency key, le last error, fr
-- failure reason, the last outcome report (answered again when the same lease repeats it): rt
-- token, rp 'kind:status:attempt'; hp the epoch of the last attempt written to the history, ho how
-- the latest attempt ended when that ended the execution.
--
-- The attempt history list holds the attempts that ended with the execution going back to the
-- queue. The latest attempt lives in the lease fields: running (status delivering), or the one
-- that ended the execution (`ho`). So an execution that succeeds first time has no history key.
--
-- Writes that many items of one script share (queue appends, index entries, counters) are
-- collected and made once by commit(), which every state-changing script calls last.

local unpack = unpack or table.unpack
local SEP = '\031'
local RANK_BASE = 2 ^ 40 -- queue score = priority rank * 2^40 + sequence (a float on every Lua)

-- ioredis-mock turns a returned table into an array only if its keys were inserted from the last
-- to the first (fengari keeps insertion order); a table filled with out[#out + 1] must pass here.
local function ret(t)
  local r = {}
  for i = #t, 1, -1 do
    r[i] = t[i]
  end
  return r
end

local function fmt(n)
  return string.format('%.0f', n)
end

-- The store's clock. CLOCK (ARGV[5]) is '' on Redis: TIME decides. Only the in-memory store,
-- which lives in the calling process, passes that process's clock (its TIME is not a clock).
local function now_ms()
  if CLOCK ~= '' then
    return tonumber(CLOCK)
  end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000.0 + math.floor(tonumber(t[2]) / 1000)
end

-- HMGET with missing fields as false on both backends (ioredis-mock yields userdata for them).
local function hmget(key, ...)
  local f = redis.call('HMGET', key, ...)
  local out = {}
  for i = 1, select('#', ...) do
    local v = f[i]
    if type(v) ~= 'string' then
      v = false
    end
    out[i] = v
  end
  return out
end

local function num(v, default)
  if v then
    return tonumber(v)
  end
  return default
end

local function clip(s, n)
  if not s then
    return ''
  end
  s = string.gsub(s, SEP, ' ')
  if #s > n then
    return string.sub(s, 1, n)
  end
  return s
end

local function push(list, ...)
  for i = 1, select('#', ...) do
    list[#list + 1] = select(i, ...)
  end
end

-- deferred writes -----------------------------------------------------------------------------

local COUNTS = {}       -- 'task SEP status' -> delta
local WORKERS = {}      -- worker -> { field -> delta }
local QUEUES = {}       -- task -> { {score, id, ...}, lowest score }
local QUEUE_ORDER = {}
local LOG = {}          -- new execution ids, creation order
local LEASES_ADD = {}   -- score, id pairs
local LEASES_REM = {}
local DONE_ADD = {}     -- score, id pairs
local NOTIFY = {}       -- task -> executions that became claimable
local NOTIFY_N = 0
local NEXT_DUE = nil    -- earliest new deadline (lease expiry, due time), for the wake index

local function count(task, status, delta)
  local k = task .. SEP .. status
  COUNTS[k] = (COUNTS[k] or 0) + delta
end

local function move_count(task, from, to)
  count(task, from, -1)
  count(task, to, 1)
end

-- Worker counters: cl claimed, co completed, fa failed (failure or expiry), rl released,
-- cn cancelled while held. Leases in flight = cl - co - fa - rl - cn.
local function worker_add(worker, field, delta)
  if not worker or worker == '' then
    return
  end
  local w = WORKERS[worker]
  if not w then
    w = {}
    WORKERS[worker] = w
  end
  w[field] = (w[field] or 0) + delta
end

local function worker_seen(worker, now)
  redis.call('ZADD', K_WORKERS, fmt(now), worker)
end

local function note_due(t)
  if NEXT_DUE == nil or t < NEXT_DUE then
    NEXT_DUE = t
  end
end

local function due_str()
  if NEXT_DUE == nil then
    return ''
  end
  return fmt(NEXT_DUE)
end

-- pending queues ----------------------------------------------------------------------------
-- One sorted set per task holds exactly its pending executions (member: id, score: priority rank
-- * 2^40 + queue sequence): removal by id is exact, so a cancel or a claim by id never leaves an
-- entry behind for later claims to skip. K_READY holds each non-empty task's best score.

local function rank(prio)
  return 1000 - tonumber(prio)
end

local function refresh_ready(task)
  local best = redis.call('ZRANGE', k_queue(task), 0, 0, 'WITHSCORES')
  if best[1] then
    redis.call('ZADD', K_READY, best[2], task)
  else
    redis.call('ZREM', K_READY, task)
  end
end

-- Queue sequence numbers come in blocks: one INCRBY per script, not one INCR per execution.
-- Unused numbers of a block are simply skipped; order across scripts is kept.
local SEQ_NEXT, SEQ_LAST = 0, -1
local function next_seq()
  if SEQ_NEXT > SEQ_LAST then
    SEQ_LAST = tonumber(redis.call('INCRBY', K_SEQ, 1024))
    SEQ_NEXT = SEQ_LAST - 1023
  end
  local seq = SEQ_NEXT
  SEQ_NEXT = SEQ_NEXT + 1
  return seq
end

-- Queues the execution at the tail of its task and priority (written by commit).
local function queue_push(id, task, prio)
  local score = rank(prio) * RANK_BASE + next_seq()
  local pending = QUEUES[task]
  if not pending then
    pending = { {}, score }
    QUEUES[task] = pending
    QUEUE_ORDER[#QUEUE_ORDER + 1] = task
  end
  push(pending[1], fmt(score), id)
  if score < pending[2] then
    pending[2] = score
  end
  NOTIFY[task] = (NOTIFY[task] or 0) + 1
  NOTIFY_N = NOTIFY_N + 1
end

-- Takes a pending execution out of its queue (cancel, claim by id).
local function queue_remove(id, task)
  if redis.call('ZREM', k_queue(task), id) == 1 then
    refresh_ready(task)
  end
end

-- The best non-empty queue among `tasks` (nil: any task): lowest score = highest priority, then
-- oldest. Returns the task and the score of the next-best task: entries of the best task keep
-- the global order while their score stays below it.
local function best_queue(tasks)
  local task, best, second = nil, nil, math.huge
  if tasks == nil then
    -- Internal tasks (`@...`, e.g. webhook deliveries) are claimed only by name.
    local r = redis.call('ZRANGE', K_READY, 0, 7, 'WITHSCORES')
    for i = 1, #r, 2 do
      if string.sub(r[i], 1, 1) ~= '@' then
        if not task then
          task, best = r[i], tonumber(r[i + 1])
        else
          second = tonumber(r[i + 1])
          break
        end
      end
    end
  else
    for _, t in ipairs(tasks) do
      local s = redis.call('ZSCORE', K_READY, t)
      if s then
        s = tonumber(s)
        if best == nil or s < best then
          if best ~= nil then
            second = best
          end
          task, best = t, s
        elseif s < second then
          second = s
        end
      end
    end
  end
  return task, second
end

-- Takes up to `want` executions from the head of a task's queue, stopping before the first whose
-- score reaches `limit` (the head itself is always taken). Returns their ids.
local function queue_take(task, want, limit)
  local q = k_queue(task)
  local entries = redis.call('ZRANGE', q, 0, want - 1, 'WITHSCORES')
  local taken = {}
  for i = 1, #entries, 2 do
    if i > 1 and tonumber(entries[i + 1]) >= limit then
      break
    end
    taken[#taken + 1] = entries[i]
  end
  if #taken > 0 then
    redis.call('ZREMRANGEBYRANK', q, 0, #taken - 1)
    refresh_ready(task)
  end
  return taken
end

-- The queue-order head of each priority band of a task: at most one read per priority in use.
local function band_heads(task)
  local q, heads = k_queue(task), {}
  local first = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
  while first[1] do
    heads[#heads + 1] = first[1]
    local next_band = (math.floor(tonumber(first[2]) / RANK_BASE) + 1) * RANK_BASE
    first = redis.call('ZRANGEBYSCORE', q, fmt(next_band), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  end
  return heads
end

-- events ------------------------------------------------------------------------------------

local EV_ON = nil
local function event(id, task, status, attempt, worker, now)
  if EV_ON == nil then
    EV_ON = redis.call('EXISTS', K_EVSUB) == 1
  end
  if EV_ON then
    redis.call('PUBLISH', EVENT_CH, table.concat({ id, task, status, fmt(attempt), worker or '', fmt(now) }, SEP))
  end
end

-- commit ------------------------------------------------------------------------------------

local function commit()
  for _, task in ipairs(QUEUE_ORDER) do
    local pending = QUEUES[task]
    redis.call('ZADD', k_queue(task), unpack(pending[1]))
    local cur = redis.call('ZSCORE', K_READY, task)
    if not cur or pending[2] < tonumber(cur) then
      redis.call('ZADD', K_READY, fmt(pending[2]), task)
    end
  end
  if #LOG > 0 then
    redis.call('RPUSH', K_LOG, unpack(LOG))
  end
  if #LEASES_REM > 0 then
    redis.call('ZREM', K_LEASES, unpack(LEASES_REM))
  end
  if #LEASES_ADD > 0 then
    redis.call('ZADD', K_LEASES, unpack(LEASES_ADD))
  end
  if #DONE_ADD > 0 then
    redis.call('ZADD', K_DONE, unpack(DONE_ADD))
  end
  for k, delta in pairs(COUNTS) do
    if delta ~= 0 then
      redis.call('HINCRBY', K_COUNTS, k, delta)
    end
  end
  for worker, fields in pairs(WORKERS) do
    for field, delta in pairs(fields) do
      redis.call('HINCRBY', k_worker(worker), field, delta)
    end
  end
  if NEXT_DUE and WAKE_KEY then
    -- A single Redis: record the new deadline in the global wake index here, keeping the earliest,
    -- instead of a second round trip from the engine.
    local member = string.match(P, '{(.*)}')
    local cur = redis.call('ZSCORE', WAKE_KEY, member)
    if not cur or NEXT_DUE < tonumber(cur) then
      redis.call('ZADD', WAKE_KEY, fmt(NEXT_DUE), member)
    end
  end
  if NOTIFY_N > 0 then
    local parts = { TENANT, fmt(NOTIFY_N) }
    for task, n in pairs(NOTIFY) do
      parts[#parts + 1] = task
      parts[#parts + 1] = fmt(n)
    end
    redis.call('PUBLISH', NOTIFY_CH, table.concat(parts, SEP))
  end
end

-- attempt history ---------------------------------------------------------------------------
-- entry: attempt SEP epoch SEP worker SEP claimed_at SEP ended_at SEP how SEP error SEP reported with

local function history_add(id, attempt, epoch, worker, claimed_at, how, err, now, rw)
  local h = k_history(id)
  local len = redis.call('RPUSH', h, table.concat({ attempt or '0', epoch or '0', worker or '', claimed_at or '', fmt(now), how,
    clip(err, 500), rw or '' }, SEP))
  if len > HISTORY_MAX then
    redis.call('LTRIM', h, -HISTORY_MAX, -1)
  end
end

-- transitions shared by several scripts -----------------------------------------------------

-- What lease-ending scripts read; the positions are used as f[...] below.
-- The reaper reads only the first REAP_READ of them (every HMGET field costs on the hot path).
local LEASE_READ = { 's', 'x', 'w', 't', 'a', 'm', 'pr', 'cx', 'ep', 'ca', 'cue', 'tb', 'rl', 'tok', 'rt', 'rp', 'bo' }
local F_S, F_X, F_W, F_T, F_A, F_M, F_PR, F_CX = 1, 2, 3, 4, 5, 6, 7, 8
local F_EP, F_CA, F_CUE, F_TB, F_RL, F_TOK, F_RT, F_RP, F_BO = 9, 10, 11, 12, 13, 14, 15, 16, 17
local REAP_READ = 13

-- Attempts that count against max attempts: every claim but the released ones (a release is
-- not a failed attempt, yet the next claim still gets the next attempt number).
local function attempts_used(f)
  return tonumber(f[F_A]) - num(f[F_RL], 0)
end

-- How a report was authorised: the lease token (fenced), the worker id alone (checked against
-- the holder), or neither (any holder of the tenant's API key; CueAPI clients send no token).
local function reported_with(token, worker)
  if token ~= '' then
    return 'lease_token'
  elseif worker ~= '' then
    return 'worker_id'
  end
  return 'api_key'
end

local WORKER_FIELD = { success = 'co', failure = 'fa', lease_expired = 'fa', released = 'rl', cancelled = 'cn' }

-- Ends the current lease: lease index and the worker's counters. The lease fields stay (the
-- status says they are no lease any more). An attempt after which the execution goes back to the
-- queue is written to the history now; one that ends the execution (`terminal`) stays in the lease
-- fields with `ho` and `rw` (how its report was authorised; '' when nobody reported). Returns the
-- hash fields to set with the caller's status change.
local function end_lease(id, f, how, err, now, terminal, rw)
  LEASES_REM[#LEASES_REM + 1] = id
  worker_add(f[F_W], WORKER_FIELD[how], 1)
  if terminal then
    return { 'ho', how, 'rw', rw or '' }
  end
  history_add(id, f[F_A], f[F_EP], f[F_W], f[F_CA], how, err, now, rw)
  return { 'hp', f[F_EP] }
end

-- Sets the status fields plus `extra` (more hash fields) in one write.
local function write_fields(id, fields, extra)
  if extra then
    push(fields, unpack(extra))
  end
  redis.call('HSET', k_exec(id), unpack(fields))
end

-- Moves one execution between per-task counters; `from` nil for a new execution.
local function recount(task, from, to)
  if from then
    move_count(task, from, to)
  else
    count(task, to, 1)
  end
end

-- `from` is the previous status (nil for a new execution); `extra` more hash fields to set.
local function make_pending(id, task, prio, from, now, extra)
  queue_push(id, task, prio)
  write_fields(id, { 's', 'pending', 'u', fmt(now) }, extra)
  if from == 'scheduled' or from == 'retrying' then
    redis.call('HDEL', k_exec(id), 'due')
  end
  recount(task, from, 'pending')
end

local function make_waiting(id, task, status, from, due, now, extra)
  write_fields(id, { 's', status, 'due', fmt(due), 'u', fmt(now) }, extra)
  redis.call('ZADD', K_SCHED, fmt(due), id)
  recount(task, from, status)
  note_due(due)
end

-- A one-time cue ends with the execution its tick fired: `completed` on success, else `failed`.
-- Manual fires and replays do not decide it. `cue` and `tb` are the execution's fields.
local function cue_settle(cue, tb, status, now)
  if not cue or tb ~= 'scheduled' then
    return
  end
  local c = k_cue(cue)
  local g = hmget(c, 'ty', 'st')
  if g[1] == 'once' and (g[2] == 'active' or g[2] == 'paused') then
    local final = 'failed'
    if status == 'success' then
      final = 'completed'
    end
    redis.call('HSET', c, 'st', final, 'u', fmt(now))
    redis.call('ZREM', K_CUE_DUE, cue)
  end
end

-- A reported attempt (success or failure) counts as a run of the cue that fired it.
local function cue_ran(cue, now)
  if cue and redis.call('EXISTS', k_cue(cue)) == 1 then
    redis.call('HINCRBY', k_cue(cue), 'rc', 1)
    redis.call('HSET', k_cue(cue), 'lr', fmt(now))
  end
end

-- `f`: the execution's LEASE_READ fields when the caller has them (for the cue it came from).
local function finish(id, task, status, from, now, extra, f)
  write_fields(id, { 's', status, 'f', fmt(now), 'u', fmt(now) }, extra)
  if from == 'scheduled' or from == 'retrying' then
    redis.call('HDEL', k_exec(id), 'due')
  end
  push(DONE_ADD, fmt(now), id)
  move_count(task, from, status)
  if f then
    cue_settle(f[F_CUE], f[F_TB], status, now)
  end
end

local function backoff_ms(bo, attempt)
  local list = {}
  for v in string.gmatch(bo, '[^,]+') do
    list[#list + 1] = tonumber(v)
  end
  local i = attempt
  if i > #list then
    i = #list
  end
  if i < 1 then
    return 0
  end
  return math.floor(list[i] * 1000)
end

local function payload_of(id, inline, external)
  if inline then
    return inline
  end
  if external then
    return redis.call('GET', k_payload(id)) or 'null'
  end
  return 'null'
end

-- creation ----------------------------------------------------------------------------------

-- Creates an execution from a flat field list (the enqueue item layout, see enqueue.lua) and
-- returns its status. `inline_max`: payloads up to this many bytes stay in the hash.
local function create_execution(id, task, payload, prio, max_attempts, bo, lease_s, at, delay, ik, cue, cn, rf, inline_max, now, tb)
  local fields = { 't', task, 'm', max_attempts, 'c', fmt(now) }
  if prio ~= '0' then
    push(fields, 'pr', prio)
  end
  if bo ~= '' then
    push(fields, 'bo', bo)
  end
  if lease_s ~= '' then
    push(fields, 'ls', lease_s)
  end
  if ik ~= '' then
    push(fields, 'ik', ik)
  end
  if cue ~= '' then
    push(fields, 'cue', cue, 'cn', cn)
  end
  if rf ~= '' then
    push(fields, 'rf', rf)
  end
  if tb and tb ~= '' then
    push(fields, 'tb', tb)
  end
  if #payload <= inline_max then
    push(fields, 'pl', payload)
  else
    push(fields, 'px', '1')
    redis.call('SET', k_payload(id), payload)
  end
  local due = nil
  if at ~= '' then
    due = tonumber(at)
  elseif delay ~= '' then
    due = now + tonumber(delay)
  end
  if due ~= nil then
    push(fields, 'sf', fmt(due))
  end
  LOG[#LOG + 1] = id
  if cue ~= '' and redis.call('EXISTS', k_cue(cue)) == 1 then
    redis.call('LPUSH', k_cue_recent(cue), id)
    redis.call('LTRIM', k_cue_recent(cue), 0, CUE_RECENT_MAX - 1)
  end
  local status
  if due ~= nil and due > now then
    make_waiting(id, task, 'scheduled', nil, due, now, fields)
    status = 'scheduled'
  else
    make_pending(id, task, prio, nil, now, fields)
    status = 'pending'
  end
  event(id, task, status, 0, '', now)
  return status
end

-- What claims read of a pending execution; the positions are used as g[...] below.
local CLAIM_READ = { 's', 't', 'a', 'ep', 'ls', 'm', 'sf', 'c', 'cue', 'cn', 'pl', 'px' }

-- Grants a fresh lease on a pending execution whose fields `g` (CLAIM_READ) were just read.
-- Returns the claim item (12 fields).
local function grant(id, g, worker, lease_ms, default_lease_ms, token, now)
  local task = g[2]
  local attempt = num(g[3], 0) + 1
  local epoch = num(g[4], 0) + 1
  local lms = lease_ms
  if lms <= 0 then
    lms = g[5] and tonumber(g[5]) * 1000 or default_lease_ms
  end
  local exp = now + lms
  local e = k_exec(id)
  -- One write: the previous lease's leftovers are overwritten ('' reads as absent).
  redis.call('HSET', e, 's', 'delivering', 'a', fmt(attempt), 'ep', fmt(epoch), 'tok', token, 'w', worker,
    'ca', fmt(now), 'x', fmt(exp), 'lms', fmt(lms), 'u', fmt(now), 'hb', '0', 'lh', '', 'rp', '', 'ho', '', 'rw', '')
  push(LEASES_ADD, fmt(exp), id)
  move_count(task, 'pending', 'delivering')
  worker_add(worker, 'cl', 1)
  event(id, task, 'delivering', attempt, worker, now)
  note_due(exp)
  return { id, task, payload_of(id, g[11], g[12]), g[7] or g[8], fmt(attempt), g[6], fmt(epoch), fmt(exp),
    fmt(lms), token, g[9] or '', g[10] or '' }
end

-- The last report: kind ('s' success, 'f' failure, 'r' release), the status and attempt it answered.
local function last_report(f)
  if not f[F_RP] then
    return nil
  end
  return string.match(f[F_RP], '^(%a):([%a_]+):(%d+)$')
end

-- Validates an outcome report of `kind`. Returns a code: 'ok' (apply it), 'repeat' (the same
-- lease reporting the same thing again: answer as before, see repeat_answer) or an error code;
-- and the execution fields read (LEASE_READ).
local function check_report(id, token, worker, kind, now)
  local f = hmget(k_exec(id), unpack(LEASE_READ))
  local s = f[F_S]
  if not s then
    return 'execution_not_found', f
  end
  local last = last_report(f)
  if token ~= '' then
    if s == 'delivering' and token == f[F_TOK] then
      if now >= tonumber(f[F_X]) then
        return 'lease_lost', f
      end
      return 'ok', f
    end
    if last and token == f[F_RT] then
      if last == kind then
        return 'repeat', f
      end
      return 'outcome_already_reported', f
    end
    return 'lease_lost', f
  end
  -- CueAPI clients send no token: accept the current valid holder, checked by worker id if sent.
  if s == 'delivering' then
    if worker ~= '' and worker ~= f[F_W] then
      return 'not_execution_owner', f
    end
    if now >= tonumber(f[F_X]) then
      return 'lease_lost', f
    end
    return 'ok', f
  end
  if last then
    if last == kind then
      return 'repeat', f
    end
    return 'outcome_already_reported', f
  end
  if s == 'cancelled' then
    return 'execution_cancelled', f
  end
  return 'execution_not_claiming', f
end

-- The status and attempt a repeated report is answered with.
local function repeat_answer(f)
  local _, status, attempt = last_report(f)
  return status, attempt
end

-- Hash fields that remember a report, so the same lease repeating it gets the same answer.
local function report_fields(token, kind, status, attempt)
  return { 'rt', token, 'rp', kind .. ':' .. status .. ':' .. fmt(attempt) }
end

-- Shared helpers, prepended to every partition script by scripts.ts (after the ARGV header and
-- the key builders from keys.ts). Scripts must run unchanged on Redis (Lua 5.1, doubles) and on
-- ioredis-mock (fengari: Lua 5.3 with 32-bit integers), hence:
--   * numbers go to redis.call as fmt() strings: exact for ms timestamps and 2^53-range scores;
--   * no cjson/cmsgpack/redis.error_reply: scripts return flat arrays whose first item is a code.
--
-- Execution hash fields: t task, s status, a attempt, m max attempts, pr priority (absent = 0),
-- bo backoff seconds csv, ls lease seconds, c created, u updated, sf scheduled for (absent = c),
-- due next attempt time, f finished, qs queue sequence while pending, pl inline payload
-- (px = 1: payload in its own key), ep epoch, lease: tok w ca x lms hb lh, cx cancel requested,
-- cue cn cue id and name, tb triggered by (scheduled, manual_fire, replay; absent = enqueued),
-- rf replayed from, ik idempotency key, le last error, fr failure reason,
-- last outcome report (idempotent repeats): rt token, ro kind, rs status, ra attempt.

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

-- counts ------------------------------------------------------------------------------------

local function count(task, status, delta)
  redis.call('HINCRBY', K_COUNTS, task .. SEP .. status, delta)
end

local function move_count(task, from, to)
  count(task, from, -1)
  count(task, to, 1)
end

-- pending queues ----------------------------------------------------------------------------

local function rank(prio)
  return 1000 - tonumber(prio)
end

local function refresh_ready(task)
  local best = redis.call('ZRANGE', k_task(task), 0, 0, 'WITHSCORES')
  if best[1] then
    redis.call('ZADD', K_READY, best[2], task)
  else
    redis.call('ZREM', K_READY, task)
  end
end

local function refresh_queue(prio, task)
  local head = redis.call('LINDEX', k_queue(prio, task), 0)
  if head then
    local seq = string.match(head, '^(%d+):')
    redis.call('ZADD', k_task(task), fmt(rank(prio) * RANK_BASE + tonumber(seq)), prio)
  else
    redis.call('ZREM', k_task(task), prio)
  end
  refresh_ready(task)
end

local NOTIFY = {}
local NOTIFY_N = 0

-- Appends to the tail; the indexes change only when the queue was empty before.
local function queue_push(id, task, prio)
  local seq = fmt(redis.call('INCR', K_SEQ))
  local len = redis.call('RPUSH', k_queue(prio, task), seq .. ':' .. id)
  redis.call('HSET', k_exec(id), 'qs', seq)
  if len == 1 then
    refresh_queue(prio, task)
  end
  NOTIFY[task] = (NOTIFY[task] or 0) + 1
  NOTIFY_N = NOTIFY_N + 1
end

-- The best non-empty queue among `tasks` (nil: any task): lowest score = highest priority,
-- then oldest head. Returns task, priority or nil.
local function best_queue(tasks)
  local task
  if tasks == nil then
    -- Internal tasks (`@...`, e.g. webhook deliveries) are claimed only by name.
    local r = redis.call('ZRANGE', K_READY, 0, 7)
    for _, t in ipairs(r) do
      if string.sub(t, 1, 1) ~= '@' then
        task = t
        break
      end
    end
  else
    local best
    for _, t in ipairs(tasks) do
      local s = redis.call('ZSCORE', K_READY, t)
      if s and (best == nil or tonumber(s) < best) then
        task, best = t, tonumber(s)
      end
    end
  end
  if not task then
    return nil
  end
  local p = redis.call('ZRANGE', k_task(task), 0, 0)
  if not p[1] then
    redis.call('ZREM', K_READY, task)
    return task, nil
  end
  return task, p[1]
end

-- Pops the head entry; returns the execution id when it is still pending at that position
-- (cancel and claim-by-id leave stale entries behind instead of an O(n) LREM).
local function queue_pop(prio, task)
  local entry = redis.call('LPOP', k_queue(prio, task))
  refresh_queue(prio, task)
  if not entry then
    return nil
  end
  local seq, id = string.match(entry, '^(%d+):(.*)$')
  local st = hmget(k_exec(id), 's', 'qs')
  if st[1] == 'pending' and st[2] == seq then
    return id
  end
  return nil
end

local function flush_notify()
  if NOTIFY_N == 0 then
    return
  end
  local parts = { TENANT, fmt(NOTIFY_N) }
  for task, n in pairs(NOTIFY) do
    parts[#parts + 1] = task
    parts[#parts + 1] = fmt(n)
  end
  redis.call('PUBLISH', NOTIFY_CH, table.concat(parts, SEP))
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

-- workers -----------------------------------------------------------------------------------

local function worker_seen(worker, now)
  redis.call('ZADD', K_WORKERS, fmt(now), worker)
  redis.call('HSET', k_worker(worker), 'ls', fmt(now))
end

local function worker_inc(worker, field, delta)
  if worker and worker ~= '' then
    redis.call('HINCRBY', k_worker(worker), field, delta)
  end
end

-- attempt history ---------------------------------------------------------------------------
-- entry: attempt SEP epoch SEP worker SEP claimed_at SEP ended_at SEP how SEP error

local function history_push(id, attempt, epoch, worker, now)
  local h = k_history(id)
  redis.call('RPUSH', h, table.concat({ fmt(attempt), fmt(epoch), worker, fmt(now), '', '', '' }, SEP))
  redis.call('LTRIM', h, -HISTORY_MAX, -1)
end

local function history_end(id, how, err, now)
  local h = k_history(id)
  local last = redis.call('LINDEX', h, -1)
  if not last then
    return
  end
  local f = {}
  for part in string.gmatch(last .. SEP, '([^' .. SEP .. ']*)' .. SEP) do
    f[#f + 1] = part
  end
  f[5], f[6], f[7] = fmt(now), how, clip(err, 500)
  redis.call('LSET', h, -1, table.concat(f, SEP, 1, 7))
end

-- transitions shared by several scripts -----------------------------------------------------

local LEASE_FIELDS = { 'tok', 'w', 'ca', 'x', 'lms', 'hb', 'lh' }

-- Ends the current lease: index, fields, history, worker in-flight count.
local function end_lease(id, worker, how, err, now)
  redis.call('ZREM', K_LEASES, id)
  redis.call('HDEL', k_exec(id), unpack(LEASE_FIELDS))
  history_end(id, how, err, now)
  worker_inc(worker, 'in', -1)
end

local NEXT_DUE = nil
local function note_due(t)
  if NEXT_DUE == nil or t < NEXT_DUE then
    NEXT_DUE = t
  end
end

local function make_pending(id, task, prio, from, now)
  redis.call('HSET', k_exec(id), 's', 'pending', 'u', fmt(now))
  redis.call('HDEL', k_exec(id), 'due')
  queue_push(id, task, prio)
  if from then
    move_count(task, from, 'pending')
  else
    count(task, 'pending', 1)
  end
end

local function make_waiting(id, task, status, from, due, now)
  redis.call('HSET', k_exec(id), 's', status, 'due', fmt(due), 'u', fmt(now))
  redis.call('ZADD', K_SCHED, fmt(due), id)
  if from then
    move_count(task, from, status)
  else
    count(task, status, 1)
  end
  note_due(due)
end

-- A one-time cue ends with the execution its tick fired: `completed` on success, else `failed`.
-- Manual fires and replays do not decide it.
local function cue_settle(id, status, now)
  local f = hmget(k_exec(id), 'cue', 'tb')
  if not f[1] or f[2] ~= 'scheduled' then
    return
  end
  local c = k_cue(f[1])
  local g = hmget(c, 'ty', 'st')
  if g[1] == 'once' and (g[2] == 'active' or g[2] == 'paused') then
    local final = 'failed'
    if status == 'success' then
      final = 'completed'
    end
    redis.call('HSET', c, 'st', final, 'u', fmt(now))
    redis.call('ZREM', K_CUE_DUE, f[1])
  end
end

-- A reported attempt (success or failure) counts as a run of the cue that fired it.
local function cue_ran(id, now)
  local cue = redis.call('HGET', k_exec(id), 'cue')
  if cue and redis.call('EXISTS', k_cue(cue)) == 1 then
    redis.call('HINCRBY', k_cue(cue), 'rc', 1)
    redis.call('HSET', k_cue(cue), 'lr', fmt(now))
  end
end

local function finish(id, task, status, from, now)
  redis.call('HSET', k_exec(id), 's', status, 'f', fmt(now), 'u', fmt(now))
  redis.call('HDEL', k_exec(id), 'due', 'qs')
  redis.call('ZADD', K_DONE, fmt(now), id)
  move_count(task, from, status)
  cue_settle(id, status, now)
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

local function due_str()
  if NEXT_DUE == nil then
    return ''
  end
  return fmt(NEXT_DUE)
end

-- creation ----------------------------------------------------------------------------------

-- Creates an execution from a flat field list (the enqueue item layout, see enqueue.lua) and
-- returns its status. `inline_max`: payloads up to this many bytes stay in the hash.
local function create_execution(id, task, payload, prio, max_attempts, bo, lease_s, at, delay, ik, cue, cn, rf, inline_max, now, tb)
  local e = k_exec(id)
  local fields = { 't', task, 'm', max_attempts, 'c', fmt(now), 'u', fmt(now) }
  local function add(k, v)
    fields[#fields + 1] = k
    fields[#fields + 1] = v
  end
  if prio ~= '0' then
    add('pr', prio)
  end
  if bo ~= '' then
    add('bo', bo)
  end
  if lease_s ~= '' then
    add('ls', lease_s)
  end
  if ik ~= '' then
    add('ik', ik)
  end
  if cue ~= '' then
    add('cue', cue)
    add('cn', cn)
  end
  if rf ~= '' then
    add('rf', rf)
  end
  if tb and tb ~= '' then
    add('tb', tb)
  end
  if #payload <= inline_max then
    add('pl', payload)
  else
    add('px', '1')
    redis.call('SET', k_payload(id), payload)
  end
  local due = nil
  if at ~= '' then
    due = tonumber(at)
  elseif delay ~= '' then
    due = now + tonumber(delay)
  end
  if due ~= nil then
    add('sf', fmt(due))
  end
  redis.call('HSET', e, unpack(fields))
  redis.call('RPUSH', K_LOG, id)
  if cue ~= '' and redis.call('EXISTS', k_cue(cue)) == 1 then
    redis.call('LPUSH', k_cue_recent(cue), id)
    redis.call('LTRIM', k_cue_recent(cue), 0, CUE_RECENT_MAX - 1)
  end
  local status
  if due ~= nil and due > now then
    make_waiting(id, task, 'scheduled', nil, due, now)
    status = 'scheduled'
  else
    make_pending(id, task, prio, nil, now)
    status = 'pending'
  end
  event(id, task, status, 0, '', now)
  return status
end

-- Grants a fresh lease on a pending execution. Returns the claim item (12 fields).
local function grant(id, worker, lease_ms, default_lease_ms, token, now)
  local e = k_exec(id)
  local f = hmget(e, 't', 'a', 'ep', 'ls', 'm', 'sf', 'c', 'cue', 'cn', 'pl', 'px')
  local task = f[1]
  local attempt = num(f[2], 0) + 1
  local epoch = num(f[3], 0) + 1
  local lms = lease_ms
  if lms <= 0 then
    lms = f[4] and tonumber(f[4]) * 1000 or default_lease_ms
  end
  local exp = now + lms
  redis.call('HSET', e, 's', 'delivering', 'a', fmt(attempt), 'ep', fmt(epoch), 'tok', token, 'w', worker,
    'lw', worker, 'ca', fmt(now), 'x', fmt(exp), 'lms', fmt(lms), 'hb', '0', 'u', fmt(now))
  redis.call('HDEL', e, 'qs', 'lh', 'rt', 'ro', 'rs', 'ra', 'due')
  redis.call('ZADD', K_LEASES, fmt(exp), id)
  move_count(task, 'pending', 'delivering')
  history_push(id, attempt, epoch, worker, now)
  event(id, task, 'delivering', attempt, worker, now)
  note_due(exp)
  return { id, task, payload_of(id, f[10], f[11]), f[6] or f[7], fmt(attempt), f[5], fmt(epoch), fmt(exp),
    fmt(lms), token, f[8] or '', f[9] or '' }
end

-- Validates an outcome report of `kind` ('s' success, 'f' failure, 'r' release). Returns a code:
-- 'ok' (apply it), 'repeat' (the same lease reporting the same thing again: answer as before)
-- or an error code; and the execution fields read.
local REPORT_FIELDS = { 's', 'tok', 'x', 'w', 'rt', 'ro', 'rs', 'ra', 't', 'a', 'm', 'pr', 'bo', 'cx', 'ep' }
local function check_report(id, token, worker, kind, now)
  local f = hmget(k_exec(id), unpack(REPORT_FIELDS))
  local s = f[1]
  if not s then
    return 'execution_not_found', f
  end
  if token ~= '' then
    if s == 'delivering' and token == f[2] then
      if now >= tonumber(f[3]) then
        return 'lease_lost', f
      end
      return 'ok', f
    end
    if f[5] and token == f[5] then
      if f[6] == kind then
        return 'repeat', f
      end
      return 'outcome_already_reported', f
    end
    return 'lease_lost', f
  end
  -- CueAPI clients send no token: accept the current valid holder, checked by worker id if sent.
  if s == 'delivering' then
    if worker ~= '' and worker ~= f[4] then
      return 'not_execution_owner', f
    end
    if now >= tonumber(f[3]) then
      return 'lease_lost', f
    end
    return 'ok', f
  end
  if f[6] then
    if f[6] == kind then
      return 'repeat', f
    end
    return 'outcome_already_reported', f
  end
  if s == 'cancelled' then
    return 'execution_cancelled', f
  end
  return 'execution_not_claiming', f
end

local function remember_report(id, token, kind, status, attempt)
  redis.call('HSET', k_exec(id), 'rt', token, 'ro', kind, 'rs', status, 'ra', fmt(attempt))
end

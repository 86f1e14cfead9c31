-- deferred writes --------------------------------------------------------------------------------
-- Writes that many items of one script share (queue entries, index entries, counters) are
-- collected and made once by commit(), which every state-changing script calls last.

local COUNTS = {}       -- 'task SEP status' -> delta
local WORKERS = {}      -- worker -> { field -> delta } (fields: see worker_add)
local QUEUES = {}       -- task -> { entries = {score, id, ...}, lowest = the lowest score }
local QUEUE_ORDER = {}
local LOG = {}          -- new execution ids, creation order
local LEASES_ADD = {}   -- score, id pairs
local LEASES_REM = {}
local DONE_ADD = {}     -- score, id pairs
local NOTIFY = {}       -- task -> executions that became claimable
local NOTIFY_N = 0
local RATES = {}        -- this minute's activity: RATE_FIELDS field -> delta
local LOST = {}         -- worker -> { at = ms, id = execution }: its lease expired unreported
local DAY = {}          -- today's activity (DAY_FIELDS): field -> delta
local CUE_DAYS = {}     -- cue -> { CUE_DAY_FIELDS field -> delta }
local DEADLINES_ADD = {}  -- score, id pairs
local DEADLINES_REM = {}
local NEXT_DUE = nil    -- the earliest new deadline (lease expiry, due time): when maintenance is due

local function count(task, status, delta)
  local k = task .. SEP .. status
  COUNTS[k] = (COUNTS[k] or 0) + delta
end

local function move_count(task, from, to)
  if from then
    count(task, from, -1)
  end
  count(task, to, 1)
end

-- Worker counters (WORKER_FIELDS), batched per script.
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

local function rate(field, delta)
  RATES[field] = (RATES[field] or 0) + delta
end

local function day_add(field, delta)
  DAY[field] = (DAY[field] or 0) + delta
end

local function cue_day_add(cue, field, delta)
  local c = CUE_DAYS[cue]
  if not c then
    c = {}
    CUE_DAYS[cue] = c
  end
  c[field] = (c[field] or 0) + delta
end

-- Adds `fields` (field -> delta) to a hash that expires `ttl` seconds after its first write.
local function incr_expiring(key, fields, ttl)
  local fresh = false
  for field, delta in pairs(fields) do
    if redis.call('HINCRBY', key, field, delta) == delta then
      fresh = true
    end
  end
  if fresh then
    redis.call('EXPIRE', key, ttl)
  end
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

local function commit(now)
  for _, task in ipairs(QUEUE_ORDER) do
    local pending = QUEUES[task]
    redis.call('ZADD', k_queue(task), unpack(pending.entries))
    local cur = redis.call('ZSCORE', K_READY, task)
    if not cur or pending.lowest < tonumber(cur) then
      redis.call('ZADD', K_READY, fmt(pending.lowest), task)
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
  for worker, lost in pairs(LOST) do
    redis.call('HSET', k_worker(worker), WF.lost_at, lost.at, WF.lost_execution, lost.id)
  end
  if next(RATES) then
    incr_expiring(k_rates(math.floor(now / 60000)), RATES, RATES_TTL)
  end
  local today = math.floor(now / 86400000)
  if next(DAY) then
    incr_expiring(k_day(today), DAY, 40 * 86400)
  end
  for cue, fields in pairs(CUE_DAYS) do
    incr_expiring(k_cue_day(cue, today), fields, 8 * 86400)
  end
  if #DEADLINES_REM > 0 then
    redis.call('ZREM', K_DEADLINES, unpack(DEADLINES_REM))
  end
  if #DEADLINES_ADD > 0 then
    redis.call('ZADD', K_DEADLINES, unpack(DEADLINES_ADD))
  end
  if NEXT_DUE and DUE_KEY then
    -- A single Redis: record the new deadline in the global due index here, keeping the earliest,
    -- instead of a second round trip from the engine.
    local member = string.match(P, '{(.*)}')
    local cur = redis.call('ZSCORE', DUE_KEY, member)
    if not cur or NEXT_DUE < tonumber(cur) then
      redis.call('ZADD', DUE_KEY, fmt(NEXT_DUE), member)
    end
  end
  if NOTIFY_N > 0 then
    local parts = {}
    parts[NOTIFY_MESSAGE.tenant_id] = TENANT
    parts[NOTIFY_MESSAGE.total] = fmt(NOTIFY_N)
    for task, n in pairs(NOTIFY) do
      parts[#parts + 1] = task
      parts[#parts + 1] = fmt(n)
    end
    redis.call('PUBLISH', NOTIFY_CH, table.concat(parts, SEP))
  end
end

-- events --------------------------------------------------------------------------------------------

-- Published (layout EVENT) only while some server streams the tenant's events (K_EVSUB).
local EV_ON = nil
local function event(id, r, now)
  if EV_ON == nil then
    EV_ON = redis.call('EXISTS', K_EVSUB) == 1
  end
  if EV_ON then
    local e = {}
    e[EVENT.id] = id
    e[EVENT.task] = r[X.task]
    e[EVENT.status] = r[X.status]
    e[EVENT.attempt] = r[X.attempt]
    e[EVENT.worker_id] = r[X.worker_id]
    e[EVENT.at] = fmt(now)
    redis.call('PUBLISH', EVENT_CH, table.concat(e, SEP, 1, EVENT._n))
  end
end

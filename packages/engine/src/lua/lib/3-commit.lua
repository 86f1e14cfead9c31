-- deferred writes --------------------------------------------------------------------------------
-- Writes that many items of one script share (queue entries, index entries, counters) are
-- collected and made once by commit(), which every state-changing script calls last.

-- One table, not a local each: a Lua chunk may hold only 200 locals.
local W = {
  counts = {},        -- 'task SEP status' -> delta
  workers = {},       -- worker -> { field -> delta } (fields: see worker_add)
  queues = {},        -- task -> { entries = {score, id, ...}, lowest = the lowest score }
  queue_order = {},
  log = {},           -- new execution ids, creation order
  leases_add = {},    -- score, id pairs
  leases_rem = {},
  done_add = {},      -- score, id pairs
  notify = {},        -- task -> executions that became claimable
  notify_n = 0,
  rates = {},         -- this minute's activity: RATE_FIELDS field -> delta
  lost = {},          -- worker -> { at = ms, id = execution }: its lease expired unreported
  day = {},           -- today's activity (DAY_FIELDS): field -> delta
  cue_days = {},      -- cue -> { CUE_DAY_FIELDS field -> delta }
  deadlines_add = {}, -- score, id pairs
  deadlines_rem = {},
  next_due = nil,     -- the earliest new deadline (lease expiry, due time): when maintenance is due
}

-- The counter field of (task, status), built once per script: a batch moves many executions of
-- one task, and a concatenation per move is a new string to hash each time.
local COUNT_FIELD = {}
local function count(task, status, delta)
  local fields = COUNT_FIELD[task]
  if not fields then
    fields = {}
    COUNT_FIELD[task] = fields
  end
  local k = fields[status]
  if not k then
    k = task .. SEP .. status
    fields[status] = k
  end
  W.counts[k] = (W.counts[k] or 0) + delta
end

local function move_count(task, from, to)
  if from then
    count(task, from, -1)
  end
  count(task, to, 1)
end

-- Adds delta to t[key][field], t[key] made on first use: a counter of one of many hashes.
local function add_in(t, key, field, delta)
  local c = t[key]
  if not c then
    c = {}
    t[key] = c
  end
  c[field] = (c[field] or 0) + delta
end

-- Worker counters (WORKER_FIELDS), batched per script.
local function worker_add(worker, field, delta)
  if worker and worker ~= '' then
    add_in(W.workers, worker, field, delta)
  end
end

local function worker_seen(worker, now)
  redis.call('ZADD', K_WORKERS, fmt(now), worker)
end

local function rate(field, delta)
  W.rates[field] = (W.rates[field] or 0) + delta
end

local function day_add(field, delta)
  W.day[field] = (W.day[field] or 0) + delta
end

local function cue_day_add(cue, field, delta)
  add_in(W.cue_days, cue, field, delta)
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
  if W.next_due == nil or t < W.next_due then
    W.next_due = t
  end
end

local function due_str()
  if W.next_due == nil then
    return ''
  end
  return fmt(W.next_due)
end

local function commit(now)
  rec_flush()
  for _, task in ipairs(W.queue_order) do
    local pending = W.queues[task]
    redis.call('ZADD', k_queue(task), unpack(pending.entries))
    local cur = redis.call('ZSCORE', K_READY, task)
    if not cur or pending.lowest < tonumber(cur) then
      redis.call('ZADD', K_READY, fmt(pending.lowest), task)
    end
  end
  if #W.log > 0 then
    redis.call('RPUSH', K_LOG, unpack(W.log))
  end
  if #W.leases_rem > 0 then
    redis.call('ZREM', K_LEASES, unpack(W.leases_rem))
  end
  if #W.leases_add > 0 then
    redis.call('ZADD', K_LEASES, unpack(W.leases_add))
  end
  if #W.done_add > 0 then
    redis.call('ZADD', K_DONE, unpack(W.done_add))
  end
  for k, delta in pairs(W.counts) do
    if delta ~= 0 then
      redis.call('HINCRBY', K_COUNTS, k, delta)
    end
  end
  for worker, fields in pairs(W.workers) do
    for field, delta in pairs(fields) do
      redis.call('HINCRBY', k_worker(worker), field, delta)
    end
  end
  for worker, lost in pairs(W.lost) do
    redis.call('HSET', k_worker(worker), WF.lost_at, lost.at, WF.lost_execution, lost.id)
  end
  if next(W.rates) then
    incr_expiring(k_rates(math.floor(now / 60000)), W.rates, RATES_TTL)
  end
  local today = math.floor(now / 86400000)
  if next(W.day) then
    incr_expiring(k_day(today), W.day, 40 * 86400)
  end
  for cue, fields in pairs(W.cue_days) do
    incr_expiring(k_cue_day(cue, today), fields, 8 * 86400)
  end
  if #W.deadlines_rem > 0 then
    redis.call('ZREM', K_DEADLINES, unpack(W.deadlines_rem))
  end
  if #W.deadlines_add > 0 then
    redis.call('ZADD', K_DEADLINES, unpack(W.deadlines_add))
  end
  if W.next_due and DUE_KEY then
    -- A single Redis: record the new deadline in the global due index here, keeping the earliest,
    -- instead of a second round trip from the engine.
    local member = string.match(P, '{(.*)}')
    local cur = redis.call('ZSCORE', DUE_KEY, member)
    if not cur or W.next_due < tonumber(cur) then
      redis.call('ZADD', DUE_KEY, fmt(W.next_due), member)
    end
  end
  if W.notify_n > 0 then
    local parts = {}
    parts[NOTIFY_MESSAGE.tenant_id] = TENANT
    parts[NOTIFY_MESSAGE.total] = fmt(W.notify_n)
    for task, n in pairs(W.notify) do
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

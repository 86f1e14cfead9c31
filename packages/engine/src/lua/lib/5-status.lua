-- status changes of a record (the caller writes the record once, after them) ---------------------

-- What a cue does when one of its executions ends (7-outcome.lua defines it: stats, failure
-- alerts, on_failure, chaining). Declared here because finish() calls it.
local on_finish

-- A one-time cue ends with the execution its tick fired: `completed` on success, else `failed`.
-- Manual fires and replays do not decide it.
local function cue_settle(r, status, now)
  if r[X.cue_id] == '' or r[X.triggered_by] ~= 'scheduled' then
    return
  end
  local c = k_cue(r[X.cue_id])
  local ty, st = unpack(hmget(c, CF.type, CF.status))
  if ty == 'once' and (st == 'active' or st == 'paused') then
    local final = 'failed'
    if status == 'success' then
      final = 'completed'
    end
    redis.call('HSET', c, CF.status, final, CF.updated_at, fmt(now))
    redis.call('ZREM', K_CUE_DUE, r[X.cue_id])
  end
end

-- A reported attempt (success or failure) counts as a run of the cue that fired it.
local function cue_ran(r, now)
  local cue = r[X.cue_id]
  if cue ~= '' and redis.call('EXISTS', k_cue(cue)) == 1 then
    redis.call('HINCRBY', k_cue(cue), CF.run_count, 1)
    redis.call('HSET', k_cue(cue), CF.last_run, fmt(now))
  end
end

-- `from` is the previous status, nil for a new execution (whose updated_at stays its created_at).
local function make_pending(id, r, from, now)
  queue_push(id, r[X.task], r[X.priority])
  r[X.status] = 'pending'
  r[X.due_at] = ''
  if from then
    r[X.updated_at] = fmt(now)
  end
  move_count(r[X.task], from, 'pending')
end

local function make_waiting(id, r, status, from, due, now)
  r[X.status] = status
  r[X.due_at] = fmt(due)
  if from then
    r[X.updated_at] = fmt(now)
  end
  redis.call('ZADD', K_SCHED, fmt(due), id)
  move_count(r[X.task], from, status)
  note_due(due)
end

local function finish(id, r, status, from, now)
  r[X.status] = status
  r[X.finished_at] = fmt(now)
  r[X.updated_at] = fmt(now)
  r[X.due_at] = ''
  push(W.done_add, fmt(now), id)
  move_count(r[X.task], from, status)
  cue_settle(r, status, now)
  on_finish(id, r, status, now)
end

local function backoff_ms(bo, attempt)
  local list = split(bo, ',')
  local i = attempt
  if i > #list then
    i = #list
  end
  if i < 1 then
    return 0
  end
  return math.floor(tonumber(list[i]) * 1000)
end

-- Creates an execution from `e`, a table of ENQUEUE_ITEM fields by name (task and payload; any
-- other field left out or '' is unset), and returns its status.
local function create_execution(id, e, now)
  local r = rec_new()
  r[X.task] = e.task
  r[X.created_at] = b36(now)
  if (e.max_attempts or '') ~= '' and tonumber(e.max_attempts) ~= DEFAULT_MAX_ATTEMPTS then
    r[X.max_attempts] = e.max_attempts
  end
  if (e.priority or '') ~= '' and e.priority ~= '0' then
    r[X.priority] = e.priority
  end
  r[X.backoff] = e.backoff or ''
  r[X.lease_seconds] = e.lease_seconds or ''
  r[X.idempotency_key] = e.idempotency_key or ''
  r[X.cue_id] = e.cue_id or ''
  r[X.cue_name] = e.cue_name or ''
  r[X.triggered_by] = e.triggered_by or ''
  r[X.replayed_from] = e.replayed_from or ''
  r[X.chain_parent_id] = e.chain_parent_id or ''
  r[X.chain_depth] = e.chain_depth or ''
  set_payload(id, r, e.payload)
  local due = nil
  if (e.at or '') ~= '' then
    due = tonumber(e.at)
  elseif (e.delay_ms or '') ~= '' then
    due = now + tonumber(e.delay_ms)
  end
  if due ~= nil then
    r[X.scheduled_for] = fmt(due)
  end
  W.log[#W.log + 1] = id
  if r[X.cue_id] ~= '' then
    local name, od = unpack(hmget(k_cue(e.cue_id), CF.name, CF.outcome_deadline))
    if name then
      redis.call('LPUSH', k_cue_recent(e.cue_id), id)
      redis.call('LTRIM', k_cue_recent(e.cue_id), 0, CUE_RECENT_MAX - 1)
      cue_day_add(e.cue_id, CDF.executions, 1)
      if e.task ~= WEBHOOK_TASK then
        -- A worker cue's tick not claimed by its outcome deadline is missed (7-outcome.lua).
        local deadline = (due or now) + num(od, DEFAULT_OUTCOME_DEADLINE_S) * 1000
        r[X.deadline_at] = fmt(deadline)
        push(W.deadlines_add, fmt(deadline), id)
        note_due(deadline)
      end
    end
  end
  -- The tenant's executions (webhook ones too), not the internal work of alerts and notices.
  if string.sub(e.task, 1, 1) ~= '@' or e.task == WEBHOOK_TASK then
    day_add(DF.executions, 1)
  end
  if due ~= nil and due > now then
    make_waiting(id, r, 'scheduled', nil, due, now)
  else
    make_pending(id, r, nil, now)
  end
  rate(RF.enqueues, 1)
  rec_write(id, r)
  event(id, r, now)
  return r[X.status]
end

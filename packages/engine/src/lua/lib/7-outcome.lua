-- outcomes, alerts and what a cue does when its executions end (docs/outcomes.md) ----------------

local function is_internal(task)
  return string.sub(task, 1, 1) == '@'
end

-- An id for an execution this script creates, routed to this partition by ids.ts (`x<p>-<n>`).
local function new_id()
  return 'x' .. PARTITION .. '-' .. fmt(redis.call('INCR', K_IDSEQ))
end

-- Queues internal work for the built-in dispatcher (alert deliveries, failure notices): leased,
-- retried with backoff, never lost with a server.
local function enqueue_internal(task, payload, now)
  create_execution(new_id(), {
    task = task,
    payload = payload,
    max_attempts = '10',
    backoff = '5,30,120,600,1800,3600',
  }, now)
end

local function notice_payload(cue, id)
  return '{"cue_id":"' .. cue .. '","execution_id":"' .. id .. '"}'
end

-- Raises an alert (ALERT layout) unless one of the same type and subject (the execution, or the
-- cue for consecutive failures) was raised in the last ALERT_DEDUP_MS; queues its delivery when
-- the tenant has an alert webhook.
local function alert_raise(kind, subject, cue, execution, message, metadata, now)
  -- The store's clock decides (the key's TTL only cleans up): suppressed until the time it holds.
  local dedup = k_alert_dedup(kind, subject)
  local until_ms = tonumber(redis.call('GET', dedup) or '0')
  if until_ms > now then
    return
  end
  redis.call('SET', dedup, fmt(now + ALERT_DEDUP_MS), 'PX', ALERT_DEDUP_MS)
  local id = 'al' .. PARTITION .. '-' .. fmt(redis.call('INCR', K_ALERT_SEQ))
  local a = {}
  a[ALERT.id] = id
  a[ALERT.alert_type] = kind
  a[ALERT.severity] = 'warning'
  a[ALERT.cue_id] = cue
  a[ALERT.execution_id] = execution
  a[ALERT.message] = clip(message, 500)
  a[ALERT.metadata] = metadata
  a[ALERT.acknowledged_at] = ''
  a[ALERT.created_at] = fmt(now)
  redis.call('HSET', K_ALERTS, id, table.concat(a, SEP, 1, ALERT._n))
  redis.call('ZADD', K_ALERT_INDEX, fmt(now), id)
  if redis.call('EXISTS', K_AHOOK) == 1 then
    enqueue_internal(ALERT_TASK, '{"alert_id":"' .. id .. '"}', now)
  end
end

-- The state a reported outcome gets under the cue's verification policy (`flags`: EF letters of
-- the evidence present).
local function verified_state(success, mode, flags)
  if not success then
    return 'reported_failure'
  elseif mode == 'manual' then
    return 'verification_pending'
  end
  local need = nil
  if mode == 'require_external_id' then
    need = EF.external_id
  elseif mode == 'require_result_url' then
    need = EF.result_url
  elseif mode == 'require_artifacts' then
    need = EF.artifacts
  end
  if need == nil then
    return 'reported_success'
  elseif string.find(flags, need, 1, true) then
    return 'verified_success'
  end
  return 'verification_failed'
end

local function cue_field(r, field)
  if r[X.cue_id] == '' then
    return false
  end
  return redis.call('HGET', k_cue(r[X.cue_id]), field)
end

-- Arms a cue's missed_window deadline (member 'w:<cue>' of K_DEADLINES, read by deadlines.lua):
-- `now` + its window. A success moves it on; a fired tick (`only_unarmed`) arms it only when none
-- is set, so ticks never postpone it.
local function window_arm(cue, now, only_unarmed)
  local window = num(redis.call('HGET', k_cue(cue), CF.missed_window), 0)
  if window <= 0 or only_unarmed and redis.call('ZSCORE', K_DEADLINES, 'w:' .. cue) then
    return
  end
  push(W.deadlines_add, fmt(now + window), 'w:' .. cue)
  note_due(now + window)
end

-- A failure that counts against the cue: failures in a row raise consecutive_failures.
local function cue_failure(r, now)
  local cue = r[X.cue_id]
  if cue == '' or redis.call('EXISTS', k_cue(cue)) == 0 then
    return
  end
  local n = redis.call('HINCRBY', k_cue(cue), CF.consecutive_failures, 1)
  local threshold = num(redis.call('HGET', k_cue(cue), CF.alert_threshold), DEFAULT_ALERT_THRESHOLD)
  if n >= threshold then
    alert_raise('consecutive_failures', cue, cue, '', fmt(n) .. ' executions of cue ' .. cue .. ' failed in a row',
      '{"consecutive_failures":' .. fmt(n) .. '}', now)
  end
end

local function cue_success(r, now)
  local cue = r[X.cue_id]
  if cue ~= '' then
    redis.call('HSET', k_cue(cue), CF.consecutive_failures, '0')
    window_arm(cue, now, false)
  end
end

-- The alert of an outcome lacking the evidence its cue requires (metadata as CueAPI's).
local function verification_failed_alert(id, r, now)
  alert_raise('verification_failed', id, r[X.cue_id], id, 'The outcome of execution ' .. id ..
    ' lacks the evidence its cue requires', '{"outcome_state":"verification_failed","transport":"' ..
    (r[X.task] == WEBHOOK_TASK and 'webhook' or 'worker') .. '"}', now)
end

-- Keeps what the list filters read of the evidence (evidenceFlags: letters '|' result_type
-- digest) on the record. Returns the letters, what verified_state reads.
local function evidence_note(r, flags)
  local letters, rtype = string.match(flags, '^([^|]*)|(.*)$')
  if not letters then
    letters, rtype = flags, ''
  end
  r[X.evidence] = letters
  r[X.result_type] = rtype
  return letters
end

-- Records an outcome on the record: its state under the cue's policy, when, and its counters.
-- Returns the state.
local function record_outcome(id, r, success, flags, now)
  flags = evidence_note(r, flags)
  local state = verified_state(success, cue_field(r, CF.verification) or '', flags)
  r[X.outcome_state] = state
  r[X.outcome_success] = success and '1' or '0'
  r[X.outcome_at] = fmt(now)
  r[X.outcome_version] = fmt(num(r[X.outcome_version], 0) + 1)
  if r[X.deadline_at] ~= '' then
    r[X.deadline_at] = ''
    W.deadlines_rem[#W.deadlines_rem + 1] = id
  end
  day_add(DF.outcomes, 1)
  day_add(success and DF.outcome_successes or DF.outcome_failures, 1)
  if state == 'verification_failed' then
    verification_failed_alert(id, r, now)
  end
  return state
end

-- The cue's on_failure: pause it (a one-time cue fails), post its webhook, mail the tenant.
local function on_failure_run(id, r, now)
  local cue = r[X.cue_id]
  local c = k_cue(cue)
  local ty, pause, hook, mail = unpack(hmget(c, CF.type, CF.on_failure_pause, CF.on_failure_webhook,
    CF.on_failure_email))
  if not ty then
    return
  end
  if pause == '1' then
    redis.call('HSET', c, CF.status, ty == 'once' and 'failed' or 'paused', CF.updated_at, fmt(now))
    redis.call('HDEL', c, CF.next_run)
    redis.call('ZREM', K_CUE_DUE, cue)
  end
  if hook == '1' then
    enqueue_internal(NOTIFY_TASK, notice_payload(cue, id), now)
  end
  if mail == '1' and EMAIL_ENABLED then
    enqueue_internal(EMAIL_TASK, notice_payload(cue, id), now)
  end
end

-- Fires the cue this one chains to (on_success_fire), if it is active and the chain not too deep.
local function chain_fire(id, r, now)
  local target = cue_field(r, CF.on_success_fire)
  local depth = num(r[X.chain_depth], 0) + 1
  if not target or target == '' or depth > MAX_CHAIN_DEPTH then
    return
  end
  local st, name, task, payload, max, bo, ls = unpack(hmget(k_cue(target), CF.status, CF.name, CF.task,
    CF.payload, CF.max_attempts, CF.backoff, CF.lease_seconds))
  if st ~= 'active' then
    return
  end
  create_execution(new_id(), {
    task = task,
    payload = payload,
    max_attempts = max,
    backoff = bo,
    lease_seconds = ls,
    cue_id = target,
    cue_name = name,
    triggered_by = 'chain',
    chain_parent_id = id,
    chain_depth = fmt(depth),
  }, now)
end

-- When a cue's execution ends: its stats, its failure streak, on_failure, and chaining.
on_finish = function(id, r, status, now)
  local cue = r[X.cue_id]
  if cue == '' then
    return
  end
  if status == 'success' then
    cue_day_add(cue, CDF.successes, 1)
    local started = num(r[X.started_at], nil)
    if started then
      redis.call('LPUSH', k_cue_durations(cue), fmt(now - started))
      redis.call('LTRIM', k_cue_durations(cue), 0, 199)
    end
    -- A webhook's delivery is not its outcome: its streak follows the reported outcome.
    if r[X.task] ~= WEBHOOK_TASK then
      cue_success(r, now)
    end
    chain_fire(id, r, now)
  elseif status == 'failed' then
    cue_day_add(cue, CDF.failures, 1)
    cue_failure(r, now)
    on_failure_run(id, r, now)
  end
end

-- The record of an execution whose outcome a client changes afterwards (evidence, verify,
-- verification-pending), or nil and the error code: none (internal ones are not the client's) or
-- no outcome yet.
local function outcome_record(id)
  local r = rec_read(id)
  if not r or is_internal(r[X.task]) and r[X.task] ~= WEBHOOK_TASK then
    return nil, 'execution_not_found'
  end
  if r[X.outcome_at] == '' then
    return nil, 'no_outcome'
  end
  return r
end

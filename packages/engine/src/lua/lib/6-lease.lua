-- leases and reports ----------------------------------------------------------------------------

-- Attempts that count against max attempts: every claim but the released ones (a release is not
-- a failed attempt, yet the next claim gets the next attempt number).
local function attempts_used(r)
  return num(r[X.attempt], 0) - num(r[X.released], 0)
end

local function max_attempts(r)
  return num(r[X.max_attempts], DEFAULT_MAX_ATTEMPTS)
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

-- Grants a fresh lease on the pending execution `id` whose record `r` was just read, and appends
-- the CLAIMED item to `out`.
local function grant(id, r, worker, lease_ms, default_lease_ms, token, now, out)
  local attempt = fmt(num(r[X.attempt], 0) + 1)
  local lms = lease_ms
  if lms <= 0 then
    lms = num(r[X.lease_seconds], default_lease_ms / 1000) * 1000
  end
  local exp = now + lms
  r[X.status] = 'delivering'
  r[X.attempt] = attempt
  r[X.lease_token] = token
  r[X.worker_id] = worker
  r[X.claimed_at] = fmt(now)
  r[X.expires_at] = fmt(exp)
  r[X.lease_ms] = fmt(lms)
  r[X.updated_at] = fmt(now)
  r[X.heartbeats] = ''
  r[X.last_heartbeat_at] = ''
  r[X.report_token] = ''
  r[X.report] = ''
  r[X.ended] = ''
  r[X.reported_with] = ''
  if r[X.started_at] == '' then
    r[X.started_at] = fmt(now)
  end
  if r[X.deadline_at] ~= '' then
    -- A cue's worker execution is claimed: it can no longer be missed.
    r[X.deadline_at] = ''
    W.deadlines_rem[#W.deadlines_rem + 1] = id
  end
  rec_stage(id, r)
  push(W.leases_add, fmt(exp), id)
  move_count(r[X.task], 'pending', 'delivering')
  worker_add(worker, WF.claimed, 1)
  rate(RF.claims, 1)
  event(id, r, now)
  note_due(exp)
  local b = #out
  out[b + CLAIMED.id] = id
  out[b + CLAIMED.task] = r[X.task]
  out[b + CLAIMED.payload] = payload_of(id, r)
  out[b + CLAIMED.scheduled_for] = r[X.scheduled_for]
  out[b + CLAIMED.created_at] = r[X.created_at]
  out[b + CLAIMED.attempt] = attempt
  out[b + CLAIMED.max_attempts] = fmt(max_attempts(r))
  out[b + CLAIMED.expires_at] = fmt(exp)
  out[b + CLAIMED.lease_ms] = fmt(lms)
  out[b + CLAIMED.token] = token
  out[b + CLAIMED.cue_id] = r[X.cue_id]
  out[b + CLAIMED.cue_name] = r[X.cue_name]
end

-- The last report: kind ('s' success, 'f' failure, 'r' release), the status and attempt it answered.
local function last_report(r)
  if r[X.report] == '' then
    return nil
  end
  return string.match(r[X.report], '^(%a):([%a_]+):(%d+)$')
end

-- The opening the batched report scripts (complete, fail, release) share: `args` and `item` are
-- their ARGV layouts. Reads every record of the batch in one call, so the per-item loop does not.
-- Returns the item count, the store time and the reply with its header filled in.
local function report_batch(args, item)
  local n = tonumber(ARGV[args.count])
  local now = now_ms()
  local out = {}
  out[REPORT_REPLY.code] = 'ok'
  out[REPORT_REPLY.now] = fmt(now)
  out[REPORT_REPLY.next_due] = ''
  local batch = {}
  for i = 0, n - 1 do
    batch[#batch + 1] = ARGV[args._last + i * item._n + item.id]
  end
  rec_prefetch(batch)
  return n, now, out
end

-- Validates a report of `kind` ('s', 'f', 'r'). Returns a code, 'ok' (apply it), 'repeat' (the
-- same lease reporting the same thing again: answer as before, see repeat_answer) or an error
-- code, and the execution's record (nil when there is none).
local function check_report(id, token, worker, kind, now)
  local r = rec_read(id)
  if not r then
    return 'execution_not_found', nil
  end
  -- Only the dispatcher (with its lease token) finishes a webhook's delivery; a webhook handler's
  -- outcome goes through outcome.lua, so a token-less success or failure is not this script's.
  if token == '' and kind ~= 'r' and r[X.task] == WEBHOOK_TASK and r[X.status] == 'delivering' then
    return 'execution_not_claiming', r
  end
  local s = r[X.status]
  local last = last_report(r)
  if token ~= '' then
    if s == 'delivering' and token == r[X.lease_token] then
      if now >= tonumber(r[X.expires_at]) then
        return 'lease_lost', r
      end
      return 'ok', r
    end
    if last and token == r[X.report_token] then
      if last == kind then
        return 'repeat', r
      end
      return 'outcome_already_reported', r
    end
    return 'lease_lost', r
  end
  -- CueAPI clients send no token: accept the current valid holder, checked by worker id if sent.
  if s == 'delivering' then
    if worker ~= '' and worker ~= r[X.worker_id] then
      return 'not_execution_owner', r
    end
    if now >= tonumber(r[X.expires_at]) then
      return 'lease_lost', r
    end
    return 'ok', r
  end
  if last then
    if last == kind then
      return 'repeat', r
    end
    return 'outcome_already_reported', r
  end
  if s == 'cancelled' then
    return 'execution_cancelled', r
  end
  return 'execution_not_claiming', r
end

-- Appends a REPORTED item to `out`.
local function reported(out, code, status, attempt, next_at, outcome_state)
  local b = #out
  out[b + REPORTED.code] = code
  out[b + REPORTED.status] = status or ''
  out[b + REPORTED.attempt] = attempt or ''
  out[b + REPORTED.next_at] = next_at or ''
  out[b + REPORTED.outcome_state] = outcome_state or ''
end

-- A repeated report is answered with the status and attempt of the first one.
local function report_again(out, r)
  local _, status, attempt = last_report(r)
  reported(out, 'ok', status, attempt, '', r[X.outcome_state])
end

-- Remembers a report, so the same lease repeating it gets the same answer.
local function remember_report(r, kind, status)
  r[X.report_token] = r[X.lease_token]
  r[X.report] = kind .. ':' .. status .. ':' .. r[X.attempt]
end

local WORKER_COUNTER = {
  success = WF.completed,
  failure = WF.failed,
  lease_expired = WF.failed,
  released = WF.released,
  cancelled = WF.cancelled,
}

-- Ends the current lease: lease index and the worker's counters. The lease fields stay (the
-- status says they are no lease any more). An attempt after which the execution goes back to the
-- queue is written to the history now; one that ends the execution (`terminal`) stays in the
-- lease fields, with how it ended and how its report was authorised (rw; nil when nobody reported).
local function end_lease(id, r, how, err, now, terminal, rw)
  W.leases_rem[#W.leases_rem + 1] = id
  worker_add(r[X.worker_id], WORKER_COUNTER[how], 1)
  if terminal then
    r[X.ended] = how
    r[X.reported_with] = rw or ''
  else
    history_add(r, how, err, now, rw)
  end
end

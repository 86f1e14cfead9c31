-- fail: a valid lease reports failure. The attempt is consumed: with attempts left and a
-- retryable failure the execution is `retrying` until now + backoff (or `pending` at once when the
-- backoff is 0), otherwise `failed`. A cancel-requested execution becomes `cancelled`.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  execution id
-- ARGV[7]  lease token ('': CueAPI client)
-- ARGV[8]  worker id ('': not checked)
-- ARGV[9]  error message
-- ARGV[10] retry allowed: '1' or '0'
-- ARGV[11] retry after ms ('': the execution's backoff for this attempt)
-- ARGV[12] outcome evidence JSON ('': none)
-- ARGV[13] default backoff seconds csv
-- Returns {'ok', status, attempt, next attempt ms or '', now, '1' if this repeats an earlier report}
-- Errors: as complete.lua.
local id, token, worker, err = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local retry, retry_after, evidence, default_bo = ARGV[10] == '1', ARGV[11], ARGV[12], ARGV[13]
local now = now_ms()
local code, f = check_report(id, token, worker, 'f', now)
if code == 'repeat' then
  local status, attempt = repeat_answer(f)
  return { 'ok', status, attempt, '', fmt(now), '1' }
end
if code ~= 'ok' then
  return { code }
end
local task, attempt, max, prio = f[F_T], tonumber(f[F_A]), tonumber(f[F_M]), f[F_PR] or '0'
local delay = 0
local status
if f[F_CX] == '1' then
  status = 'cancelled'
elseif retry and attempts_used(f) < max then
  if retry_after ~= '' then
    delay = tonumber(retry_after)
  else
    delay = backoff_ms(f[F_BO] or default_bo, attempt)
  end
  status = delay > 0 and 'retrying' or 'pending'
else
  status = 'failed'
end
local terminal = status == 'cancelled' or status == 'failed'
local extra = report_fields(f[F_TOK], 'f', status, attempt)
push(extra, 'le', clip(err, 2000))
push(extra, unpack(end_lease(id, f, 'failure', err, now, terminal, reported_with(token, worker))))
cue_ran(f[F_CUE], now)
if status == 'retrying' then
  make_waiting(id, task, 'retrying', 'delivering', now + delay, now, extra)
elseif status == 'pending' then
  make_pending(id, task, prio, 'delivering', now, extra)
else
  local reason = 'cancelled'
  if status == 'failed' then
    reason = retry and 'attempts_exhausted' or 'non_retryable'
  end
  push(extra, 'fr', reason)
  finish(id, task, status, 'delivering', now, extra, f)
end
if evidence ~= '' then
  redis.call('SET', k_outcome(id), evidence)
end
event(id, task, status, attempt, f[F_W], now)
commit()
return { 'ok', status, fmt(attempt), due_str(), fmt(now), '0' }

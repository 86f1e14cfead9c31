-- fail: a valid lease reports failure. The attempt is consumed: with attempts left and a
-- retryable failure the execution is `retrying` until now + backoff (or `pending` at once when the
-- backoff is 0), otherwise `failed`. A cancel-requested execution becomes `cancelled`.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  execution id
-- ARGV[7]  lease token ('': CueAPI client)
-- ARGV[8]  worker id ('': not checked)
-- ARGV[9]  error message
-- ARGV[10]  retry allowed: '1' or '0'
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
  return { 'ok', f[7], f[8], '', fmt(now), '1' }
end
if code ~= 'ok' then
  return { code }
end
local e = k_exec(id)
local task, attempt, max, prio, holder = f[9], tonumber(f[10]), tonumber(f[11]), f[12] or '0', f[4]
end_lease(id, holder, 'failure', err, now)
cue_ran(id, now)
redis.call('HSET', e, 'le', clip(err, 2000))
local status
if f[14] == '1' then
  finish(id, task, 'cancelled', 'delivering', now)
  redis.call('HSET', e, 'fr', 'cancelled')
  status = 'cancelled'
elseif retry and attempt < max then
  local delay
  if retry_after ~= '' then
    delay = tonumber(retry_after)
  else
    delay = backoff_ms(f[13] or default_bo, attempt)
  end
  if delay > 0 then
    make_waiting(id, task, 'retrying', 'delivering', now + delay, now)
    status = 'retrying'
  else
    make_pending(id, task, prio, 'delivering', now)
    status = 'pending'
  end
else
  finish(id, task, 'failed', 'delivering', now)
  if retry then
    redis.call('HSET', e, 'fr', 'attempts_exhausted')
  else
    redis.call('HSET', e, 'fr', 'non_retryable')
  end
  status = 'failed'
end
remember_report(id, f[2], 'f', status, attempt)
if evidence ~= '' then
  redis.call('SET', k_outcome(id), evidence)
end
worker_inc(holder, 'fa', 1)
event(id, task, status, attempt, holder, now)
flush_notify()
return { 'ok', status, fmt(attempt), due_str(), fmt(now), '0' }

-- cancel: pending, scheduled or retrying -> `cancelled`; delivering -> cancel requested (the
-- worker learns it on its next heartbeat; its lease ends the execution as `cancelled`), or
-- `cancelled` at once when that lease has already expired. Cancelling twice is harmless.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  execution id
-- Returns {'ok', status, attempt, cancel requested '1'/'0'}
-- Errors: execution_not_found; execution_not_cancellable (success or failed).
local id = ARGV[6]
local e = k_exec(id)
local f = hmget(e, 's', 't', 'a', 'x', 'w', 'cx')
local s = f[1]
if not s then
  return { 'execution_not_found' }
end
local task, attempt = f[2], num(f[3], 0)
if s == 'success' or s == 'failed' then
  return { 'execution_not_cancellable' }
end
if s == 'cancelled' then
  return { 'ok', 'cancelled', fmt(attempt), f[6] == '1' and '1' or '0' }
end
local now = now_ms()
if s == 'delivering' then
  if now < tonumber(f[4]) then
    redis.call('HSET', e, 'cx', '1', 'u', fmt(now))
    return { 'ok', 'delivering', fmt(attempt), '1' }
  end
  end_lease(id, f[5], 'cancelled', '', now)
elseif s == 'scheduled' or s == 'retrying' then
  redis.call('ZREM', K_SCHED, id)
end
-- a pending execution's queue entry stays behind; claim.lua skips it
finish(id, task, 'cancelled', s, now)
redis.call('HSET', e, 'fr', 'cancelled')
event(id, task, 'cancelled', attempt, '', now)
return { 'ok', 'cancelled', fmt(attempt), '0' }

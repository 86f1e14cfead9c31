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
local f = hmget(e, unpack(LEASE_READ))
local s = f[F_S]
if not s then
  return { 'execution_not_found' }
end
local task, attempt = f[F_T], num(f[F_A], 0)
if s == 'success' or s == 'failed' then
  return { 'execution_not_cancellable' }
end
if s == 'cancelled' then
  return { 'ok', 'cancelled', fmt(attempt), f[F_CX] == '1' and '1' or '0' }
end
local now = now_ms()
local extra = {}
if s == 'delivering' then
  if now < tonumber(f[F_X]) then
    redis.call('HSET', e, 'cx', '1', 'u', fmt(now))
    return { 'ok', 'delivering', fmt(attempt), '1' }
  end
  extra = end_lease(id, f, 'cancelled', '', now, true)
elseif s == 'scheduled' or s == 'retrying' then
  redis.call('ZREM', K_SCHED, id)
else
  queue_remove(id, task)
end
push(extra, 'fr', 'cancelled')
finish(id, task, 'cancelled', s, now, extra, f)
event(id, task, 'cancelled', attempt, '', now)
commit()
return { 'ok', 'cancelled', fmt(attempt), '0' }

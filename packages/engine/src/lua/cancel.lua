-- cancel: pending, scheduled or retrying -> `cancelled`; delivering -> cancel requested (the
-- worker learns it on its next heartbeat; its lease ends the execution as `cancelled`), or
-- `cancelled` at once when that lease has already expired. Cancelling twice is harmless.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CANCEL_ARGS
-- Returns  CANCEL_REPLY (cancel_requested '1' or '0')
-- Errors   execution_not_found; execution_not_cancellable (success or failed).
local id = ARGV[CANCEL_ARGS.id]
local r = rec_read(id)
if not r then
  return { 'execution_not_found' }
end
local s = r[X.status]
if s == 'success' or s == 'failed' then
  return { 'execution_not_cancellable' }
end
local now = now_ms()
local out = {}
out[CANCEL_REPLY.code] = 'ok'
out[CANCEL_REPLY.now] = fmt(now)
out[CANCEL_REPLY.status] = 'cancelled'
out[CANCEL_REPLY.attempt] = r[X.attempt]
out[CANCEL_REPLY.cancel_requested] = r[X.cancel_requested] == '1' and '1' or '0'
if s == 'cancelled' then
  return ret(out)
end
if s == 'delivering' then
  if now < tonumber(r[X.expires_at]) then
    r[X.cancel_requested] = '1'
    r[X.updated_at] = fmt(now)
    rec_write(id, r)
    out[CANCEL_REPLY.status] = 'delivering'
    out[CANCEL_REPLY.cancel_requested] = '1'
    return ret(out)
  end
  end_lease(id, r, 'cancelled', '', now, true)
elseif s == 'scheduled' or s == 'retrying' then
  redis.call('ZREM', K_SCHED, id)
else
  queue_remove(id, r[X.task])
end
r[X.failure_reason] = 'cancelled'
finish(id, r, 'cancelled', s, now)
rec_write(id, r)
event(id, r, now)
commit(now)
out[CANCEL_REPLY.cancel_requested] = '0'
return ret(out)

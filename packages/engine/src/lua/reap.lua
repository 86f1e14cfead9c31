-- reap: re-queues executions whose lease has expired, under the same id. The expired attempt is
-- recorded as `lease_expired`; on its last attempt the execution becomes `failed` (reason
-- lease_expired); a cancel-requested one becomes `cancelled`. Cost is proportional to the number
-- of expired leases: it reads the lease index from its earliest expiry.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  at most this many leases per call
-- Returns {'ok', now, requeued, failed, next lease expiry ms or '', expired ids...}
-- Errors: none.
local limit = tonumber(ARGV[6])
local now = now_ms()
local ids = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', fmt(now), 'LIMIT', 0, limit)
local requeued, failed = 0, 0
local out = { 'ok', fmt(now), 0, 0, '' }
for _, id in ipairs(ids) do
  local e = k_exec(id)
  local f = hmget(e, 's', 'x', 't', 'a', 'm', 'pr', 'w', 'cx')
  if f[1] ~= 'delivering' or not f[2] then
    redis.call('ZREM', K_LEASES, id)
  elseif tonumber(f[2]) > now then
    -- the index lagged behind an extension: put it back at the real expiry
    redis.call('ZADD', K_LEASES, f[2], id)
  else
    local task, attempt, holder = f[3], tonumber(f[4]), f[7]
    end_lease(id, holder, 'lease_expired', '', now)
    local status
    if f[8] == '1' then
      finish(id, task, 'cancelled', 'delivering', now)
      redis.call('HSET', e, 'fr', 'cancelled')
      status = 'cancelled'
      failed = failed + 1
    elseif attempt >= tonumber(f[5]) then
      finish(id, task, 'failed', 'delivering', now)
      redis.call('HSET', e, 'fr', 'lease_expired', 'le', 'lease expired')
      status = 'failed'
      failed = failed + 1
    else
      make_pending(id, task, f[6] or '0', 'delivering', now)
      status = 'pending'
      requeued = requeued + 1
    end
    worker_inc(holder, 'fa', 1)
    event(id, task, status, attempt, holder, now)
    out[#out + 1] = id
  end
end
out[3], out[4] = requeued, failed
local first = redis.call('ZRANGE', K_LEASES, 0, 0, 'WITHSCORES')
if first[2] then
  out[5] = first[2]
end
flush_notify()
return ret(out)

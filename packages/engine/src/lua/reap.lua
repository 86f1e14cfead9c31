-- reap: re-queues executions whose lease has expired, under the same id. The expired attempt is
-- recorded as `lease_expired`; on its last attempt the execution becomes `failed` (reason
-- lease_expired); a cancel-requested one becomes `cancelled`. Cost is proportional to the number
-- of expired leases: it reads the lease index from its earliest expiry, and the writes shared by
-- the batch (index, queues, counters) are made once.
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
  local f = hmget(k_exec(id), unpack(LEASE_READ, 1, REAP_READ))
  if f[F_S] ~= 'delivering' or not f[F_X] then
    LEASES_REM[#LEASES_REM + 1] = id
  elseif tonumber(f[F_X]) > now then
    -- the index lagged behind an extension: put it back at the real expiry
    redis.call('ZADD', K_LEASES, f[F_X], id)
  else
    local task, attempt = f[F_T], tonumber(f[F_A])
    local status
    if f[F_CX] == '1' then
      status = 'cancelled'
    elseif attempts_used(f) >= tonumber(f[F_M]) then
      status = 'failed'
    else
      status = 'pending'
    end
    local ended = end_lease(id, f, 'lease_expired', '', now, status ~= 'pending')
    if status == 'cancelled' then
      push(ended, 'fr', 'cancelled')
      finish(id, task, status, 'delivering', now, ended, f)
      failed = failed + 1
    elseif status == 'failed' then
      push(ended, 'fr', 'lease_expired', 'le', 'lease expired')
      finish(id, task, status, 'delivering', now, ended, f)
      failed = failed + 1
    else
      make_pending(id, task, f[F_PR] or '0', 'delivering', now, ended)
      requeued = requeued + 1
    end
    event(id, task, status, attempt, f[F_W], now)
    out[#out + 1] = id
  end
end
out[3], out[4] = requeued, failed
commit()
local first = redis.call('ZRANGE', K_LEASES, 0, 0, 'WITHSCORES')
if first[2] then
  out[5] = first[2]
end
return ret(out)

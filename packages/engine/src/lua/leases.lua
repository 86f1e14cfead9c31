-- leases: live leases sorted by expiry (earliest first), optionally filtered. Expired leases the
-- reaper has not reached yet are included (their expiry is in the past). Also answers the
-- earliest claimed_at among the matching leases examined; limit 0 answers only that.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, LEASES_ARGS (worker_id, task: '' = any; within_ms: only leases
--          expiring within this many ms, '' = all; max_scan: at most this many examined)
-- Returns  LEASES_REPLY, then `count` LEASE items
-- Errors   none.
local limit, worker, task = tonumber(ARGV[LEASES_ARGS.limit]), ARGV[LEASES_ARGS.worker_id], ARGV[LEASES_ARGS.task]
local within, max_scan = ARGV[LEASES_ARGS.within_ms], ARGV[LEASES_ARGS.max_scan]
local now = now_ms()
local upper = '+inf'
if within ~= '' then
  upper = fmt(now + tonumber(within))
end
local ids = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', upper, 'LIMIT', 0, max_scan)
local out = {}
out[LEASES_REPLY.code] = 'ok'
out[LEASES_REPLY.now] = fmt(now)
out[LEASES_REPLY.count] = 0
out[LEASES_REPLY.oldest_claimed_at] = ''
local n, oldest = 0, nil
for _, id in ipairs(ids) do
  local r = rec_read(id)
  if r and r[X.status] == 'delivering' and (worker == '' or r[X.worker_id] == worker)
    and (task == '' or r[X.task] == task) then
    local claimed = tonumber(r[X.claimed_at])
    if claimed and (oldest == nil or claimed < oldest) then
      oldest = claimed
    end
    if limit > 0 then
      n = n + 1
      local b = #out
      out[b + LEASE.id] = id
      out[b + LEASE.task] = r[X.task]
      out[b + LEASE.worker_id] = r[X.worker_id]
      out[b + LEASE.attempt] = r[X.attempt]
      out[b + LEASE.claimed_at] = r[X.claimed_at]
      out[b + LEASE.expires_at] = r[X.expires_at]
      out[b + LEASE.lease_ms] = r[X.lease_ms]
      out[b + LEASE.heartbeats] = r[X.heartbeats]
      out[b + LEASE.last_heartbeat_at] = r[X.last_heartbeat_at]
      out[b + LEASE.cancel_requested] = r[X.cancel_requested]
      if n >= limit then
        break
      end
    end
  end
end
out[LEASES_REPLY.count] = n
out[LEASES_REPLY.oldest_claimed_at] = oldest and fmt(oldest) or ''
return ret(out)

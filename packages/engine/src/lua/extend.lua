-- extend: a heartbeat; a valid lease gets expires_at = now + extend ms, and that is its length
-- from now on (what the answer and later reads say, and what a heartbeat without extend renews).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, EXTEND_ARGS (lease_token '': CueAPI client, the holder is assumed;
--          worker_id '': not checked; extend_ms 0: the lease's own length)
-- Returns  EXTEND_REPLY
-- Errors   execution_not_found; lease_lost (stale token, or expired even if not reaped yet);
--          not_execution_owner (no token and another worker id); execution_cancelled (cancel
--          requested, or already cancelled); execution_not_claiming (no lease and no token).
local id, token, worker = ARGV[EXTEND_ARGS.id], ARGV[EXTEND_ARGS.lease_token], ARGV[EXTEND_ARGS.worker_id]
local ext = tonumber(ARGV[EXTEND_ARGS.extend_ms])
local r = rec_read(id)
if not r then
  return { 'execution_not_found' }
end
local s = r[X.status]
local now = now_ms()
if s ~= 'delivering' then
  if s == 'cancelled' then
    return { 'execution_cancelled' }
  end
  if token ~= '' then
    return { 'lease_lost' }
  end
  return { 'execution_not_claiming' }
end
if token ~= '' then
  if token ~= r[X.lease_token] then
    return { 'lease_lost' }
  end
elseif worker ~= '' and worker ~= r[X.worker_id] then
  return { 'not_execution_owner' }
end
if now >= tonumber(r[X.expires_at]) then
  return { 'lease_lost' }
end
if r[X.cancel_requested] == '1' then
  return { 'execution_cancelled' }
end
if ext <= 0 then
  ext = tonumber(r[X.lease_ms])
end
local exp = now + ext
r[X.expires_at] = fmt(exp)
r[X.lease_ms] = fmt(ext)
r[X.heartbeats] = fmt(num(r[X.heartbeats], 0) + 1)
r[X.last_heartbeat_at] = fmt(now)
r[X.updated_at] = fmt(now)
rec_write(id, r)
redis.call('ZADD', K_LEASES, fmt(exp), id)
worker_seen(r[X.worker_id], now)
local out = {}
out[EXTEND_REPLY.code] = 'ok'
out[EXTEND_REPLY.now] = fmt(now)
out[EXTEND_REPLY.expires_at] = fmt(exp)
out[EXTEND_REPLY.worker_id] = r[X.worker_id]
out[EXTEND_REPLY.claimed_at] = r[X.claimed_at]
out[EXTEND_REPLY.lease_ms] = fmt(ext)
out[EXTEND_REPLY.heartbeats] = r[X.heartbeats]
out[EXTEND_REPLY.last_heartbeat_at] = fmt(now)
out[EXTEND_REPLY.attempt] = r[X.attempt]
return ret(out)

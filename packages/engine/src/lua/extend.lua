-- extend: a heartbeat; a valid lease gets expires_at = now + extend ms, and that is its length
-- from now on (what the answer and later reads say, and what a heartbeat without extend renews).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  execution id
-- ARGV[7]  lease token ('': CueAPI client, the current holder is assumed)
-- ARGV[8]  worker id ('': not checked)
-- ARGV[9]  extend ms (0: the lease's own length)
-- Returns {'ok', now, expires_at, epoch, worker, claimed_at, lease ms, heartbeats, last heartbeat}
-- Errors: execution_not_found; lease_lost (stale token, or expired even if not reaped yet);
--         not_execution_owner (no token and another worker id); execution_cancelled (cancel
--         requested, or already cancelled); execution_not_claiming (no lease and no token).
local id, token, worker, ext = ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9])
local e = k_exec(id)
local f = hmget(e, 's', 'tok', 'x', 'w', 'cx', 'lms', 'ep', 'ca', 'hb')
local s = f[1]
if not s then
  return { 'execution_not_found' }
end
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
  if token ~= f[2] then
    return { 'lease_lost' }
  end
elseif worker ~= '' and worker ~= f[4] then
  return { 'not_execution_owner' }
end
if now >= tonumber(f[3]) then
  return { 'lease_lost' }
end
if f[5] == '1' then
  return { 'execution_cancelled' }
end
if ext <= 0 then
  ext = tonumber(f[6])
end
local exp = now + ext
local hb = num(f[9], 0) + 1
redis.call('HSET', e, 'x', fmt(exp), 'lms', fmt(ext), 'hb', fmt(hb), 'lh', fmt(now), 'u', fmt(now))
redis.call('ZADD', K_LEASES, fmt(exp), id)
worker_seen(f[4], now)
return { 'ok', fmt(now), fmt(exp), f[7], f[4], f[8], fmt(ext), fmt(hb), fmt(now) }

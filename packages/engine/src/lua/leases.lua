-- leases: live leases sorted by expiry (earliest first), optionally filtered. Expired leases the
-- reaper has not reached yet are included (their expiry is in the past).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  page size
-- ARGV[7]  worker id ('': any)
-- ARGV[8]  task ('': any)
-- ARGV[9]  only leases expiring within this many ms ('': all)
-- ARGV[10]  at most this many leases examined
-- Returns {'ok', now, n, then n items of 11: id, task, worker, attempt, epoch, claimed_at,
--          expires_at, lease ms, heartbeats, last heartbeat or '', cancel requested '1'/''}
-- Errors: none.
local limit, worker, task, within, max_scan = tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local now = now_ms()
local upper = '+inf'
if within ~= '' then
  upper = fmt(now + tonumber(within))
end
local ids = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', upper, 'LIMIT', 0, max_scan)
local out = { 'ok', fmt(now), 0 }
local n = 0
for _, id in ipairs(ids) do
  local f = hmget(k_exec(id), 't', 'w', 'a', 'ep', 'ca', 'x', 'lms', 'hb', 'lh', 'cx', 's')
  if f[11] == 'delivering' and (worker == '' or f[2] == worker) and (task == '' or f[1] == task) then
    n = n + 1
    local item = { id, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8] or '0', f[9] or '', f[10] or '' }
    for j = 1, 11 do
      out[#out + 1] = item[j]
    end
    if n >= limit then
      break
    end
  end
end
out[3] = n
return ret(out)

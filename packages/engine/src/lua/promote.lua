-- promote: `scheduled` and `retrying` executions whose time has come become `pending`.
-- Cost is proportional to the number due (the index is read from its earliest time).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  at most this many per call
-- Returns {'ok', now, promoted, next due ms or ''}
-- Errors: none.
local limit = tonumber(ARGV[6])
local now = now_ms()
local ids = redis.call('ZRANGEBYSCORE', K_SCHED, '-inf', fmt(now), 'LIMIT', 0, limit)
local promoted = 0
if #ids > 0 then
  redis.call('ZREM', K_SCHED, unpack(ids))
end
for _, id in ipairs(ids) do
  local f = hmget(k_exec(id), 's', 't', 'pr', 'a')
  if f[1] == 'scheduled' or f[1] == 'retrying' then
    make_pending(id, f[2], f[3] or '0', f[1], now)
    event(id, f[2], 'pending', num(f[4], 0), '', now)
    promoted = promoted + 1
  end
end
commit()
local out = { 'ok', fmt(now), promoted, '' }
local first = redis.call('ZRANGE', K_SCHED, 0, 0, 'WITHSCORES')
if first[2] then
  out[4] = first[2]
end
return ret(out)

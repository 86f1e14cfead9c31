-- purge: deletes terminal executions older than the retention, forgets workers silent for as
-- long, and trims the creation log of ids already gone.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  at most this many executions per call
-- ARGV[7]  retention ms
-- Returns {'ok', now, purged, next purge time ms or ''}
-- Errors: none.
local limit, retention = tonumber(ARGV[6]), tonumber(ARGV[7])
local now = now_ms()
local cutoff = now - retention
local ids = redis.call('ZRANGEBYSCORE', K_DONE, '-inf', fmt(cutoff), 'LIMIT', 0, limit)
for _, id in ipairs(ids) do
  local f = hmget(k_exec(id), 's', 't')
  if f[1] == 'success' or f[1] == 'failed' or f[1] == 'cancelled' then
    count(f[2], f[1], -1)
    redis.call('DEL', k_exec(id), k_payload(id), k_outcome(id), k_history(id))
  end
end
if #ids > 0 then
  redis.call('ZREM', K_DONE, unpack(ids))
end
local gone = redis.call('ZRANGEBYSCORE', K_WORKERS, '-inf', fmt(cutoff), 'LIMIT', 0, limit)
for _, w in ipairs(gone) do
  redis.call('DEL', k_worker(w))
  redis.call('ZREM', K_WORKERS, w)
end
for _ = 1, limit do
  local head = redis.call('LINDEX', K_LOG, 0)
  if not head or redis.call('EXISTS', k_exec(head)) == 1 then
    break
  end
  redis.call('LPOP', K_LOG)
  redis.call('INCR', K_LOGBASE)
end
commit()
local out = { 'ok', fmt(now), #ids, '' }
local first = redis.call('ZRANGE', K_DONE, 0, 0, 'WITHSCORES')
if first[2] then
  out[4] = fmt(tonumber(first[2]) + retention)
end
return ret(out)

-- workers: the workers of this partition, most recently seen first, with their counters.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  at most this many workers
-- Returns {'ok', now, n, then n items of 2: worker id, {hash fields flat}}
-- Errors: none.
local ids = redis.call('ZREVRANGE', K_WORKERS, 0, tonumber(ARGV[6]) - 1)
local out = { 'ok', fmt(now_ms()), #ids }
for _, w in ipairs(ids) do
  out[#out + 1] = w
  out[#out + 1] = redis.call('HGETALL', k_worker(w))
end
return ret(out)

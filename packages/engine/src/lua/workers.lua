-- workers: the workers of this partition, most recently seen first, with their counters.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  at most this many workers
-- Returns {'ok', now, n, then n items of 3: worker id, last seen ms, {hash fields flat}}
-- Errors: none.
local ids = redis.call('ZREVRANGE', K_WORKERS, 0, tonumber(ARGV[6]) - 1, 'WITHSCORES')
local out = { 'ok', fmt(now_ms()), #ids / 2 }
for i = 1, #ids, 2 do
  push(out, ids[i], ids[i + 1], redis.call('HGETALL', k_worker(ids[i])))
end
return ret(out)

-- workers: the workers of this partition, most recently seen first, with their counters.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, WORKERS_ARGS (limit: at most this many workers)
-- Returns  WORKERS_REPLY, then `count` WORKER_ITEMs (fields: the worker's stats hash flat,
--          WORKER_FIELDS)
-- Errors   none.
local ids = redis.call('ZREVRANGE', K_WORKERS, 0, tonumber(ARGV[WORKERS_ARGS.limit]) - 1, 'WITHSCORES')
local out = {}
out[WORKERS_REPLY.code] = 'ok'
out[WORKERS_REPLY.now] = fmt(now_ms())
out[WORKERS_REPLY.count] = #ids / 2
for i = 1, #ids, 2 do
  local b = #out
  out[b + WORKER_ITEM.id] = ids[i]
  out[b + WORKER_ITEM.seen] = ids[i + 1]
  out[b + WORKER_ITEM.fields] = redis.call('HGETALL', k_worker(ids[i]))
end
return ret(out)

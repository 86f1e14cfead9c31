-- worker_delete: forgets a worker (its leases are untouched; they end as usual).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, WORKER_DELETE_ARGS
-- Returns  WORKER_DELETE_REPLY (existed: 1 if it existed here, else 0)
-- Errors   none.
local worker = ARGV[WORKER_DELETE_ARGS.worker_id]
local existed = redis.call('ZREM', K_WORKERS, worker)
redis.call('DEL', k_worker(worker))
local out = {}
out[WORKER_DELETE_REPLY.code] = 'ok'
out[WORKER_DELETE_REPLY.now] = fmt(now_ms())
out[WORKER_DELETE_REPLY.existed] = existed
return ret(out)

-- worker_delete: forgets a worker (its leases are untouched; they end as usual).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..4] partition header
-- ARGV[5]  worker id
-- Returns {'ok', 1 if it existed here else 0}
-- Errors: none.
local worker = ARGV[5]
local existed = redis.call('ZREM', K_WORKERS, worker)
redis.call('DEL', k_worker(worker))
return { 'ok', existed }

-- worker_delete: forgets a worker (its leases are untouched; they end as usual).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  worker id
-- Returns {'ok', 1 if it existed here else 0}
-- Errors: none.
local worker = ARGV[6]
local existed = redis.call('ZREM', K_WORKERS, worker)
redis.call('DEL', k_worker(worker))
return { 'ok', existed }

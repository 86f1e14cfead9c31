-- claim_id: leases one named execution (CueAPI's claim by ID) if it is pending.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  execution id
-- ARGV[7]  worker id
-- ARGV[8]  lease ms for this claim (0: the execution's own, else ARGV[9])
-- ARGV[9]  default lease ms
-- ARGV[10] token
-- Returns {'ok', now, 1, then the 12 claim fields as in claim.lua}
-- Errors: {'execution_not_found'}, {'claim_failed'} when it is not pending or its task is internal
--         (`@...`: webhook executions belong to the built-in dispatcher).
local id, worker = ARGV[6], ARGV[7]
local g = hmget(k_exec(id), unpack(CLAIM_READ))
if not g[1] then
  return { 'execution_not_found' }
end
local now = now_ms()
worker_seen(worker, now)
if g[1] ~= 'pending' or string.sub(g[2], 1, 1) == '@' then
  return { 'claim_failed' }
end
queue_remove(id, g[2])
local out = { 'ok', fmt(now), 1 }
push(out, unpack(grant(id, g, worker, tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10], now)))
commit()
return ret(out)

-- claim_id: leases one named execution (CueAPI's claim by ID) if it is pending.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CLAIM_ID_ARGS
-- Returns  CLAIM_REPLY with count 1, then one CLAIMED item packed (packed())
-- Errors   execution_not_found; claim_failed when it is not pending or its task is internal
--          (`@...`: webhook executions belong to the built-in dispatcher).
local id, worker = ARGV[CLAIM_ID_ARGS.id], ARGV[CLAIM_ID_ARGS.worker_id]
local r = rec_read(id)
if not r then
  return { 'execution_not_found' }
end
local now = now_ms()
worker_seen(worker, now)
if r[X.status] ~= 'pending' or string.sub(r[X.task], 1, 1) == '@' then
  return { 'claim_failed' }
end
queue_remove(id, r[X.task])
local out = {}
out[CLAIM_REPLY.code] = 'ok'
out[CLAIM_REPLY.now] = fmt(now)
out[CLAIM_REPLY.count] = 1
out[CLAIM_REPLY.next_due] = ''
grant(id, r, worker, tonumber(ARGV[CLAIM_ID_ARGS.lease_ms]), tonumber(ARGV[CLAIM_ID_ARGS.default_lease_ms]),
  ARGV[CLAIM_ID_ARGS.token], now, out)
out[CLAIM_REPLY.next_due] = due_str()
commit(now)
return packed(out, CLAIM_REPLY)

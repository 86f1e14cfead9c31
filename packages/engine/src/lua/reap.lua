-- reap: re-queues executions whose lease has expired, under the same id. The expired attempt is
-- recorded as `lease_expired`; on its last attempt the execution becomes `failed` (reason
-- lease_expired); a cancel-requested one becomes `cancelled`. The worker is marked lost (when,
-- and which execution). Cost is proportional to the number of expired leases: the lease index is
-- read from its earliest expiry, each lease costs one record read and write, and the writes shared
-- by the batch (indexes, queues, counters) are made once.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, REAP_ARGS (limit: at most this many leases per call)
-- Returns  REAP_REPLY, then the ids re-queued or ended
-- Errors   none.
local limit = tonumber(ARGV[REAP_ARGS.limit])
local now = now_ms()
local ids = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', fmt(now), 'LIMIT', 0, limit)
-- They are the index's first #ids entries: taken out by rank at once (cheaper than a ZREM of each
-- at commit); one whose lease was extended behind the index's back is put back below.
if #ids > 0 then
  redis.call('ZREMRANGEBYRANK', K_LEASES, 0, #ids - 1)
end
rec_prefetch(ids)
local requeued, failed = 0, 0
local out = {}
out[REAP_REPLY.code] = 'ok'
out[REAP_REPLY.now] = fmt(now)
out[REAP_REPLY.requeued] = 0
out[REAP_REPLY.failed] = 0
out[REAP_REPLY.next_due] = ''
for _, id in ipairs(ids) do
  local r = rec_read(id)
  if not r or r[X.status] ~= 'delivering' then
    -- no lease any more: it left the index with the others
  elseif tonumber(r[X.expires_at]) > now then
    -- the index lagged behind an extension: put it back at the real expiry
    redis.call('ZADD', K_LEASES, r[X.expires_at], id)
  else
    local status
    if r[X.cancel_requested] == '1' then
      status = 'cancelled'
    elseif attempts_used(r) >= max_attempts(r) then
      status = 'failed'
    else
      status = 'pending'
    end
    local lost = W.lost[r[X.worker_id]]
    if lost then
      lost.id = id
    else
      W.lost[r[X.worker_id]] = { at = fmt(now), id = id }
    end
    end_lease(id, r, 'lease_expired', '', now, status ~= 'pending')
    if status == 'cancelled' then
      r[X.failure_reason] = 'cancelled'
      finish(id, r, status, 'delivering', now)
      failed = failed + 1
    elseif status == 'failed' then
      r[X.failure_reason] = 'lease_expired'
      r[X.error_message] = 'lease expired'
      finish(id, r, status, 'delivering', now)
      failed = failed + 1
    else
      make_pending(id, r, 'delivering', now)
      rate(RF.reclaims, 1)
      requeued = requeued + 1
    end
    rec_stage(id, r)
    event(id, r, now)
    out[#out + 1] = id
  end
end
out[REAP_REPLY.requeued] = requeued
out[REAP_REPLY.failed] = failed
W.leases_rem = {} -- all of them left the index above
commit(now)
out[REAP_REPLY.next_due] = first_score(K_LEASES) or ''
return ret(out)

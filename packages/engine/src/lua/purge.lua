-- purge: deletes terminal executions and alerts older than the retention, forgets workers silent
-- for as long, and trims the creation log of ids already gone.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, PURGE_ARGS (limit: at most this many executions per call)
-- Returns  PURGE_REPLY
-- Errors   none.
local limit, retention = tonumber(ARGV[PURGE_ARGS.limit]), tonumber(ARGV[PURGE_ARGS.retention_ms])
local now = now_ms()
local cutoff = now - retention
local ids = redis.call('ZRANGEBYSCORE', K_DONE, '-inf', fmt(cutoff), 'LIMIT', 0, limit)
local gone = {}
for _, id in ipairs(ids) do
  local r = rec_read(id)
  if r and (r[X.status] == 'success' or r[X.status] == 'failed' or r[X.status] == 'cancelled') then
    count(r[X.task], r[X.status], -1)
    gone[#gone + 1] = id
  end
end
if #gone > 0 then
  redis.call('HDEL', K_E, unpack(gone))
  redis.call('HDEL', K_PL, unpack(gone))
  redis.call('HDEL', K_O, unpack(gone))
end
if #ids > 0 then
  redis.call('ZREM', K_DONE, unpack(ids))
end
local old_alerts = redis.call('ZRANGEBYSCORE', K_ALERT_INDEX, '-inf', fmt(cutoff), 'LIMIT', 0, limit)
if #old_alerts > 0 then
  redis.call('HDEL', K_ALERTS, unpack(old_alerts))
  redis.call('ZREM', K_ALERT_INDEX, unpack(old_alerts))
end
local silent = redis.call('ZRANGEBYSCORE', K_WORKERS, '-inf', fmt(cutoff), 'LIMIT', 0, limit)
for _, w in ipairs(silent) do
  redis.call('DEL', k_worker(w))
  redis.call('ZREM', K_WORKERS, w)
end
for _ = 1, limit do
  local head = redis.call('LINDEX', K_LOG, 0)
  if not head or redis.call('HEXISTS', K_E, head) == 1 then
    break
  end
  redis.call('LPOP', K_LOG)
  redis.call('INCR', K_LOGBASE)
end
commit(now)
local out = {}
out[PURGE_REPLY.code] = 'ok'
out[PURGE_REPLY.now] = fmt(now)
out[PURGE_REPLY.purged] = #gone
local first = first_score(K_DONE)
out[PURGE_REPLY.next_due] = first and fmt(tonumber(first) + retention) or ''
return ret(out)

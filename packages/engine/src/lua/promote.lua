-- promote: `scheduled` and `retrying` executions whose time has come become `pending`.
-- Cost is proportional to the number due (the index is read from its earliest time).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, PROMOTE_ARGS (limit: at most this many per call)
-- Returns  PROMOTE_REPLY
-- Errors   none.
local limit = tonumber(ARGV[PROMOTE_ARGS.limit])
local now = now_ms()
local ids = redis.call('ZRANGEBYSCORE', K_SCHED, '-inf', fmt(now), 'LIMIT', 0, limit)
rec_prefetch(ids)
local promoted = 0
if #ids > 0 then
  redis.call('ZREM', K_SCHED, unpack(ids))
end
for _, id in ipairs(ids) do
  local r = rec_read(id)
  if r and (r[X.status] == 'scheduled' or r[X.status] == 'retrying') then
    make_pending(id, r, r[X.status], now)
    rec_stage(id, r)
    event(id, r, now)
    promoted = promoted + 1
  end
end
commit(now)
local out = {}
out[PROMOTE_REPLY.code] = 'ok'
out[PROMOTE_REPLY.now] = fmt(now)
out[PROMOTE_REPLY.promoted] = promoted
out[PROMOTE_REPLY.next_due] = first_score(K_SCHED) or ''
return ret(out)

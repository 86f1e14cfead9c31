-- cue_due: the active cues whose next fire time has come, for the scheduler to plan their ticks
-- (cron is computed in TypeScript). Read only; cue_tick applies the plan. Cost is proportional to
-- the number due: the index is read from its earliest time.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CUE_DUE_ARGS (limit: at most this many cues)
-- Returns  CUE_DUE_REPLY (next_due: the earliest next fire time of the cues not returned), then
--          `count` DUE_CUE items
-- Errors   none.
local limit = tonumber(ARGV[CUE_DUE_ARGS.limit])
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', K_CUE_DUE, '-inf', fmt(now), 'LIMIT', 0, limit)
local out = {}
out[CUE_DUE_REPLY.code] = 'ok'
out[CUE_DUE_REPLY.now] = fmt(now)
out[CUE_DUE_REPLY.next_due] = ''
out[CUE_DUE_REPLY.count] = 0
local n = 0
for _, id in ipairs(due) do
  local st, v, nr, lf, cfg, pc = unpack(hmget(k_cue(id), CF.status, CF.version, CF.next_run, CF.last_fired,
    CF.config, CF.partitions))
  if st == 'active' and nr then
    n = n + 1
    local b = #out
    out[b + DUE_CUE.id] = id
    out[b + DUE_CUE.version] = v
    out[b + DUE_CUE.next_run] = nr
    out[b + DUE_CUE.last_fired] = lf or ''
    out[b + DUE_CUE.config] = cfg
    out[b + DUE_CUE.partitions] = pc or '1'
  else
    -- An index entry outlived its cue's activity (deleted, paused, finished): drop it.
    redis.call('ZREM', K_CUE_DUE, id)
  end
end
out[CUE_DUE_REPLY.count] = n
local _, after = unpack(redis.call('ZRANGEBYSCORE', K_CUE_DUE, '(' .. fmt(now), '+inf', 'WITHSCORES', 'LIMIT', 0, 1))
if after then
  out[CUE_DUE_REPLY.next_due] = after
end
if #due >= limit then
  out[CUE_DUE_REPLY.next_due] = fmt(now)
end
return ret(out)

-- cue_due: the active cues whose next fire time has come, for the scheduler to plan their ticks
-- (cron is computed in TypeScript). Read only; cue_tick applies the plan. Cost is proportional to
-- the number due: the index is read from its earliest time.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  at most this many cues
-- Returns {'ok', now, earliest next fire time of the cues not returned (ms or ''), n,
--          then n items of 6: cue id, version, next fire time ms, last fired tick ms or '', config JSON,
--          the tenant's partition count}
-- Errors: none.
local limit = tonumber(ARGV[6])
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', K_CUE_DUE, '-inf', fmt(now), 'LIMIT', 0, limit)
local out = { 'ok', fmt(now), '', 0 }
local n = 0
for _, id in ipairs(due) do
  local f = hmget(k_cue(id), 'st', 'v', 'nr', 'lf', 'cfg', 'pc')
  if f[1] == 'active' and f[3] then
    n = n + 1
    out[#out + 1] = id
    out[#out + 1] = f[2]
    out[#out + 1] = f[3]
    out[#out + 1] = f[4] or ''
    out[#out + 1] = f[5]
    out[#out + 1] = f[6] or '1'
  else
    -- An index entry outlived its cue's activity (deleted, paused, finished): drop it.
    redis.call('ZREM', K_CUE_DUE, id)
  end
end
out[4] = n
local after = redis.call('ZRANGEBYSCORE', K_CUE_DUE, '(' .. fmt(now), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if after[2] then
  out[3] = after[2]
end
if #due >= limit then
  out[3] = fmt(now)
end
return ret(out)

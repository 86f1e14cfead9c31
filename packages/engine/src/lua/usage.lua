-- usage: a partition's activity per UTC day (executions created, outcomes reported) and its cues.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, USAGE_ARGS (first_day: days since the epoch)
-- Returns  USAGE_REPLY (cues: how many; active_cues: how many are active), then `days`
--          USAGE_DAY items, oldest first
-- Errors   none.
local first, days = tonumber(ARGV[USAGE_ARGS.first_day]), tonumber(ARGV[USAGE_ARGS.days])
local cues = redis.call('ZRANGE', K_CUES, 0, -1)
local active = 0
for _, id in ipairs(cues) do
  if redis.call('HGET', k_cue(id), CF.status) == 'active' then
    active = active + 1
  end
end
local out = {}
out[USAGE_REPLY.code] = 'ok'
out[USAGE_REPLY.now] = fmt(now_ms())
out[USAGE_REPLY.cues] = #cues
out[USAGE_REPLY.active_cues] = active
for day = first, first + days - 1 do
  append_hash(out, k_day(day), USAGE_DAY, DF)
end
return ret(out)

-- cue_stats: a cue's executions per UTC day and its recent durations, for its stats.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CUE_STATS_ARGS (first_day: days since the epoch)
-- Returns  CUE_STATS_REPLY, then `days` CUE_DAY items, oldest first
-- Errors   none.
local cue, first, days = ARGV[CUE_STATS_ARGS.cue_id], tonumber(ARGV[CUE_STATS_ARGS.first_day]),
  tonumber(ARGV[CUE_STATS_ARGS.days])
local out = {}
out[CUE_STATS_REPLY.code] = 'ok'
out[CUE_STATS_REPLY.now] = fmt(now_ms())
out[CUE_STATS_REPLY.durations] = redis.call('LRANGE', k_cue_durations(cue), 0, -1)
for day = first, first + days - 1 do
  append_hash(out, k_cue_day(cue, day), CUE_DAY, CDF)
end
return ret(out)

-- alerts: this partition's alerts, newest first, filtered; the caller merges partitions and pages.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, ALERTS_ARGS
-- Returns  ALERTS_REPLY (total: every match), then `count` ALERTs (at most `limit`)
-- Errors   none.
local kind, cue, acked = ARGV[ALERTS_ARGS.alert_type], ARGV[ALERTS_ARGS.cue_id], ARGV[ALERTS_ARGS.acknowledged]
local since, limit = ARGV[ALERTS_ARGS.since], tonumber(ARGV[ALERTS_ARGS.limit])
local ids
if since == '' then
  ids = redis.call('ZREVRANGE', K_ALERT_INDEX, 0, -1)
else
  ids = redis.call('ZREVRANGEBYSCORE', K_ALERT_INDEX, '+inf', since)
end
local out = {}
out[ALERTS_REPLY.code] = 'ok'
out[ALERTS_REPLY.now] = fmt(now_ms())
out[ALERTS_REPLY.total] = 0
out[ALERTS_REPLY.count] = 0
local total, n = 0, 0
for _, id in ipairs(ids) do
  local v = redis.call('HGET', K_ALERTS, id)
  if v then
    local a = split(v, SEP)
    if (kind == '' or a[ALERT.alert_type] == kind) and (cue == '' or a[ALERT.cue_id] == cue)
      and (acked == '' or (acked == '1') == (a[ALERT.acknowledged_at] ~= '')) then
      total = total + 1
      if n < limit then
        n = n + 1
        for i = 1, ALERT._n do
          out[#out + 1] = a[i] or ''
        end
      end
    end
  end
end
out[ALERTS_REPLY.total] = total
out[ALERTS_REPLY.count] = n
return ret(out)

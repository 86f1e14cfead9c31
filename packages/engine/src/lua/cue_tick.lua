-- cue_tick: fires a cue's due ticks, each as a new execution (scheduled_for = the tick), and moves
-- the cue to its next fire time. This is the dedupe on (cue, scheduled_for): it applies only if the
-- cue still has the version and next fire time the plan was made from (another server that fired
-- first, or an edit, makes it a no-op), and a tick at or before the last fired one never fires
-- again, so any number of schedulers fire each tick exactly once.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  cue id
-- ARGV[7]  version the plan was made from
-- ARGV[8]  next fire time ms the plan was made from
-- ARGV[9]  new next fire time ms ('' = none: the cue has no further tick)
-- ARGV[10] inline payload limit in bytes
-- ARGV[11] n ticks, then n pairs: execution id, tick ms (ascending)
-- Returns {'ok', now, fired, next fire time ms or '', cue status} (fired = 0 for a stale plan)
-- Errors: none.
local id, version, expected, nr, inline_max = ARGV[6], ARGV[7], ARGV[8], ARGV[9], tonumber(ARGV[10])
local n = tonumber(ARGV[11])
local now = now_ms()
local c = k_cue(id)
local f = hmget(c, 'st', 'v', 'nr', 'lf', 'ty', 't', 'pl', 'm', 'bo', 'ls', 'n')
if f[1] ~= 'active' or f[2] ~= version or f[3] ~= expected then
  return { 'ok', fmt(now), 0, f[3] or '', f[1] or '' }
end
local lf = num(f[4], -1)
local fired = 0
for i = 0, n - 1 do
  local eid, tick = ARGV[12 + i * 2], tonumber(ARGV[13 + i * 2])
  if tick > lf then
    create_execution(eid, f[6], f[7], '0', f[8], f[9] or '', f[10] or '', fmt(tick), '', '', id, f[11], '',
      inline_max, now, 'scheduled')
    lf = tick
    fired = fired + 1
  end
end
local status = f[1]
if nr ~= '' then
  redis.call('HSET', c, 'nr', nr)
  redis.call('ZADD', K_CUE_DUE, nr, id)
else
  redis.call('HDEL', c, 'nr')
  redis.call('ZREM', K_CUE_DUE, id)
  if f[5] == 'once' and fired == 0 and lf < tonumber(expected) then
    -- Its one tick was missed and the catch-up policy skips it.
    status = 'failed'
    redis.call('HSET', c, 'st', status, 'u', fmt(now))
  end
end
if fired > 0 then
  redis.call('HSET', c, 'lf', fmt(lf))
  redis.call('HINCRBY', c, 'fc', fired)
end
commit()
return { 'ok', fmt(now), fired, nr, status }

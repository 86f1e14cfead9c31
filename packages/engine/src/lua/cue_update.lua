-- cue_update: replaces a cue's configuration, if nobody edited it since it was read (version).
-- The scheduler's own fields (last fired tick, counters) are kept, so an edit never re-fires a tick.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  cue id
-- ARGV[7]  version the edit was based on
-- ARGV[8]  name
-- ARGV[9]  status
-- ARGV[10] type
-- ARGV[11] transport
-- ARGV[12] task
-- ARGV[13] payload JSON
-- ARGV[14] max attempts
-- ARGV[15] backoff seconds csv
-- ARGV[16] lease seconds ('')
-- ARGV[17] next fire time: ms, '' (none) or 'keep'
-- ARGV[18] configuration JSON
-- Returns {'ok', now, new version}
-- Errors: cue_not_found; cue_conflict (edited meanwhile); duplicate_cue_name.
local id, version, name, status, nr = ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[17]
local c = k_cue(id)
local f = hmget(c, 'n', 'v')
if not f[1] then
  return { 'cue_not_found' }
end
if f[2] ~= version then
  return { 'cue_conflict' }
end
if name ~= f[1] then
  if redis.call('HSETNX', K_CUE_NAMES, name, id) == 0 and redis.call('HGET', K_CUE_NAMES, name) ~= id then
    return { 'duplicate_cue_name' }
  end
  redis.call('HDEL', K_CUE_NAMES, f[1])
end
local now = now_ms()
local v = tonumber(version) + 1
redis.call('HSET', c, 'n', name, 'st', status, 'ty', ARGV[10], 'tp', ARGV[11], 't', ARGV[12], 'pl', ARGV[13],
  'm', ARGV[14], 'bo', ARGV[15], 'ls', ARGV[16], 'cfg', ARGV[18], 'v', fmt(v), 'u', fmt(now))
if status ~= 'active' or nr == '' then
  redis.call('HDEL', c, 'nr')
  redis.call('ZREM', K_CUE_DUE, id)
elseif nr ~= 'keep' then
  redis.call('HSET', c, 'nr', nr)
  redis.call('ZADD', K_CUE_DUE, nr, id)
end
return { 'ok', fmt(now), fmt(v) }

-- cue_delete: forgets a cue. Its executions stay (they keep the cue id and name).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  cue id
-- Returns {'ok'}
-- Errors: cue_not_found.
local id = ARGV[6]
local name = redis.call('HGET', k_cue(id), 'n')
if not name then
  return { 'cue_not_found' }
end
redis.call('DEL', k_cue(id), k_cue_recent(id))
if redis.call('HGET', K_CUE_NAMES, name) == id then
  redis.call('HDEL', K_CUE_NAMES, name)
end
redis.call('ZREM', K_CUES, id)
redis.call('ZREM', K_CUE_DUE, id)
return { 'ok' }

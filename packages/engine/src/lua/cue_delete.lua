-- cue_delete: forgets a cue. Its executions stay (they keep the cue id and name).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CUE_DELETE_ARGS
-- Returns  OK_REPLY
-- Errors   cue_not_found.
local id = ARGV[CUE_DELETE_ARGS.id]
local name = redis.call('HGET', k_cue(id), CF.name)
if not name then
  return { 'cue_not_found' }
end
redis.call('DEL', k_cue(id), k_cue_recent(id))
if redis.call('HGET', K_CUE_NAMES, name) == id then
  redis.call('HDEL', K_CUE_NAMES, name)
end
redis.call('ZREM', K_CUES, id)
redis.call('ZREM', K_CUE_DUE, id)
local out = {}
out[OK_REPLY.code] = 'ok'
out[OK_REPLY.now] = fmt(now_ms())
return ret(out)

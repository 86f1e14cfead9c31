-- cue_update: replaces a cue's configuration, if nobody edited it since it was read (version).
-- The scheduler's own fields (last fired tick, counters) are kept, so an edit never re-fires a tick.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CUE_UPDATE_ARGS (next_run: ms, '' = none, or 'keep')
-- Returns  CUE_UPDATE_REPLY (the new version)
-- Errors   cue_not_found; cue_conflict (edited meanwhile); duplicate_cue_name.
local id, version, name = ARGV[CUE_UPDATE_ARGS.id], ARGV[CUE_UPDATE_ARGS.version], ARGV[CUE_UPDATE_ARGS.name]
local status, nr = ARGV[CUE_UPDATE_ARGS.status], ARGV[CUE_UPDATE_ARGS.next_run]
local c = k_cue(id)
local old_name, old_version = unpack(hmget(c, CF.name, CF.version))
if not old_name then
  return { 'cue_not_found' }
end
if old_version ~= version then
  return { 'cue_conflict' }
end
if name ~= old_name then
  if redis.call('HSETNX', K_CUE_NAMES, name, id) == 0 and redis.call('HGET', K_CUE_NAMES, name) ~= id then
    return { 'duplicate_cue_name' }
  end
  redis.call('HDEL', K_CUE_NAMES, old_name)
end
local now = now_ms()
local v = tonumber(version) + 1
redis.call('HSET', c, CF.name, name, CF.status, status, CF.type, ARGV[CUE_UPDATE_ARGS.type],
  CF.transport, ARGV[CUE_UPDATE_ARGS.transport], CF.task, ARGV[CUE_UPDATE_ARGS.task],
  CF.payload, ARGV[CUE_UPDATE_ARGS.payload], CF.max_attempts, ARGV[CUE_UPDATE_ARGS.max_attempts],
  CF.backoff, ARGV[CUE_UPDATE_ARGS.backoff], CF.lease_seconds, ARGV[CUE_UPDATE_ARGS.lease_seconds],
  CF.verification, ARGV[CUE_UPDATE_ARGS.verification], CF.outcome_deadline, ARGV[CUE_UPDATE_ARGS.outcome_deadline],
  CF.alert_threshold, ARGV[CUE_UPDATE_ARGS.alert_threshold], CF.on_failure_pause, ARGV[CUE_UPDATE_ARGS.on_failure_pause],
  CF.on_failure_webhook, ARGV[CUE_UPDATE_ARGS.on_failure_webhook], CF.on_failure_email, ARGV[CUE_UPDATE_ARGS.on_failure_email],
  CF.on_success_fire, ARGV[CUE_UPDATE_ARGS.on_success_fire], CF.missed_window, ARGV[CUE_UPDATE_ARGS.missed_window],
  CF.config, ARGV[CUE_UPDATE_ARGS.config], CF.version, fmt(v), CF.updated_at, fmt(now))
if status ~= 'active' or nr == '' then
  redis.call('HDEL', c, CF.next_run)
  redis.call('ZREM', K_CUE_DUE, id)
elseif nr ~= 'keep' then
  redis.call('HSET', c, CF.next_run, nr)
  redis.call('ZADD', K_CUE_DUE, nr, id)
  note_due(tonumber(nr))
end
commit(now)
local out = {}
out[CUE_UPDATE_REPLY.code] = 'ok'
out[CUE_UPDATE_REPLY.now] = fmt(now)
out[CUE_UPDATE_REPLY.version] = fmt(v)
out[CUE_UPDATE_REPLY.next_due] = due_str()
return ret(out)

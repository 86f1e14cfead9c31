-- cue_create: stores a new cue under a name unique in its tenant and, when it is active with a next
-- fire time, puts it in the due index the scheduler reads.
-- The cue's hash fields: CUE_FIELDS (layouts/records.ts).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CUE_CREATE_ARGS (next_run '' = none)
-- Returns  CUE_CREATE_REPLY
-- Errors   duplicate_cue_name.
local id, name, nr = ARGV[CUE_CREATE_ARGS.id], ARGV[CUE_CREATE_ARGS.name], ARGV[CUE_CREATE_ARGS.next_run]
if redis.call('HSETNX', K_CUE_NAMES, name, id) == 0 then
  return { 'duplicate_cue_name' }
end
local now = now_ms()
local c = k_cue(id)
redis.call('HSET', c, CF.name, name, CF.status, 'active', CF.type, ARGV[CUE_CREATE_ARGS.type],
  CF.transport, ARGV[CUE_CREATE_ARGS.transport], CF.task, ARGV[CUE_CREATE_ARGS.task],
  CF.payload, ARGV[CUE_CREATE_ARGS.payload], CF.max_attempts, ARGV[CUE_CREATE_ARGS.max_attempts],
  CF.backoff, ARGV[CUE_CREATE_ARGS.backoff], CF.lease_seconds, ARGV[CUE_CREATE_ARGS.lease_seconds],
  CF.verification, ARGV[CUE_CREATE_ARGS.verification], CF.outcome_deadline, ARGV[CUE_CREATE_ARGS.outcome_deadline],
  CF.alert_threshold, ARGV[CUE_CREATE_ARGS.alert_threshold], CF.on_failure_pause, ARGV[CUE_CREATE_ARGS.on_failure_pause],
  CF.on_failure_webhook, ARGV[CUE_CREATE_ARGS.on_failure_webhook], CF.on_failure_email, ARGV[CUE_CREATE_ARGS.on_failure_email],
  CF.on_success_fire, ARGV[CUE_CREATE_ARGS.on_success_fire], CF.missed_window, ARGV[CUE_CREATE_ARGS.missed_window],
  CF.config, ARGV[CUE_CREATE_ARGS.config], CF.version, '1', CF.run_count, '0', CF.fired_count, '0',
  CF.created_at, fmt(now), CF.updated_at, fmt(now), CF.partitions, ARGV[CUE_CREATE_ARGS.partitions])
if nr ~= '' then
  redis.call('HSET', c, CF.next_run, nr)
  redis.call('ZADD', K_CUE_DUE, nr, id)
  note_due(tonumber(nr))
end
redis.call('ZADD', K_CUES, fmt(now), id)
commit(now)
local out = {}
out[CUE_CREATE_REPLY.code] = 'ok'
out[CUE_CREATE_REPLY.now] = fmt(now)
out[CUE_CREATE_REPLY.next_due] = due_str()
return ret(out)

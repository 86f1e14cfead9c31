-- cue_fire: a manual fire, whatever the schedule or status: one new execution now (or at send_at).
-- It is not a tick: it neither advances the schedule, nor counts against tick dedupe, nor counts in
-- fired_count (CueAPI counts the scheduler's fires there).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CUE_FIRE_ARGS (payload: the effective one, the cue's merged with or
--          replaced by the override; at '' = now; idempotency_key '' = none)
-- Returns  CUE_FIRE_REPLY (created '1', or '0' when the key named an execution already)
-- Errors   cue_not_found.
local id, eid, ik = ARGV[CUE_FIRE_ARGS.id], ARGV[CUE_FIRE_ARGS.execution_id], ARGV[CUE_FIRE_ARGS.idempotency_key]
local c = k_cue(id)
local name, max, bo, ls = unpack(hmget(c, CF.name, CF.max_attempts, CF.backoff, CF.lease_seconds))
if not name then
  return { 'cue_not_found' }
end
local now = now_ms()
local out = {}
out[CUE_FIRE_REPLY.code] = 'ok'
out[CUE_FIRE_REPLY.now] = fmt(now)
out[CUE_FIRE_REPLY.id] = eid
out[CUE_FIRE_REPLY.created] = '1'
out[CUE_FIRE_REPLY.next_due] = ''
local idem = ''
if ik ~= '' then
  idem = 'cue:' .. id .. ':' .. ik
  local existing = redis.call('GET', k_idem(idem))
  if existing and redis.call('HEXISTS', K_E, existing) == 1 then
    out[CUE_FIRE_REPLY.id] = existing
    out[CUE_FIRE_REPLY.created] = '0'
    return ret(out)
  end
  redis.call('SET', k_idem(idem), eid, 'EX', ARGV[CUE_FIRE_ARGS.idempotency_ttl])
end
create_execution(eid, {
  task = ARGV[CUE_FIRE_ARGS.task],
  payload = ARGV[CUE_FIRE_ARGS.payload],
  max_attempts = max,
  backoff = bo,
  lease_seconds = ls,
  at = ARGV[CUE_FIRE_ARGS.at],
  idempotency_key = idem,
  cue_id = id,
  cue_name = name,
  triggered_by = 'manual_fire',
}, now)
commit(now)
out[CUE_FIRE_REPLY.next_due] = due_str()
return ret(out)

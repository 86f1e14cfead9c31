-- verification_pending: marks a recorded outcome as awaiting verification, from any state (CueAPI).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, VERIFICATION_PENDING_ARGS
-- Returns  VERIFICATION_PENDING_REPLY
-- Errors   execution_not_found; no_outcome.
local id = ARGV[VERIFICATION_PENDING_ARGS.id]
local r = rec_read(id)
if not r or is_internal(r[X.task]) and r[X.task] ~= WEBHOOK_TASK then
  return { 'execution_not_found' }
end
if r[X.outcome_at] == '' then
  return { 'no_outcome' }
end
local now = now_ms()
r[X.outcome_state] = 'verification_pending'
r[X.outcome_version] = fmt(num(r[X.outcome_version], 0) + 1)
rec_write(id, r)
event(id, r, now)
local out = {}
out[VERIFICATION_PENDING_REPLY.code] = 'ok'
out[VERIFICATION_PENDING_REPLY.now] = fmt(now)
out[VERIFICATION_PENDING_REPLY.outcome_state] = 'verification_pending'
return ret(out)

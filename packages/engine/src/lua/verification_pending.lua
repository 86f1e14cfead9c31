-- verification_pending: marks a recorded outcome as awaiting verification, from any state (CueAPI).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, VERIFICATION_PENDING_ARGS
-- Returns  VERIFICATION_PENDING_REPLY
-- Errors   execution_not_found; no_outcome.
local id = ARGV[VERIFICATION_PENDING_ARGS.id]
local r, missing = outcome_record(id)
if not r then
  return { missing }
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

-- verification_pending: marks a reported success as awaiting verification: from reported_success,
-- again from verification_pending, and to re-open a decision from verified_success or
-- verification_failed. A reported failure claims nothing to verify: invalid_state (CueAPI core
-- allows any state; issue 12 asks for allowed starting states).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, VERIFICATION_PENDING_ARGS
-- Returns  VERIFICATION_PENDING_REPLY
-- Errors   execution_not_found; no_outcome; ERROR_REPLY invalid_state (detail: the current state).
local id = ARGV[VERIFICATION_PENDING_ARGS.id]
local r, missing = outcome_record(id)
if not r then
  return { missing }
end
if r[X.outcome_state] == 'reported_failure' then
  local err = {}
  err[ERROR_REPLY.code] = 'invalid_state'
  err[ERROR_REPLY.detail] = r[X.outcome_state]
  return ret(err)
end
local now = now_ms()
r[X.outcome_state] = 'verification_pending'
r[X.verdict_by] = 'person'
r[X.outcome_version] = fmt(num(r[X.outcome_version], 0) + 1)
rec_write(id, r)
event(id, r, now)
local out = {}
out[VERIFICATION_PENDING_REPLY.code] = 'ok'
out[VERIFICATION_PENDING_REPLY.now] = fmt(now)
out[VERIFICATION_PENDING_REPLY.outcome_state] = 'verification_pending'
return ret(out)

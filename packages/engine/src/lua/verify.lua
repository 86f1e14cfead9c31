-- verify: a person (or a client) approves or rejects a reported success: `valid` makes it
-- verified_success, otherwise verification_failed (the reason is appended to the evidence summary
-- by the caller, in the outcome JSON). Allowed from reported_success and verification_pending
-- (CueAPI's hosted rule); the status never changes and no alert is raised.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, VERIFY_ARGS (valid '1'/'0'; version as evidence.lua)
-- Returns  VERIFY_REPLY
-- Errors   execution_not_found; no_outcome; ERROR_REPLY invalid_state (detail: the current
--          state); outcome_changed.
local id = ARGV[VERIFY_ARGS.id]
local r, missing = outcome_record(id)
if not r then
  return { missing }
end
local state = r[X.outcome_state]
if state ~= 'reported_success' and state ~= 'verification_pending' then
  local err = {}
  err[ERROR_REPLY.code] = 'invalid_state'
  err[ERROR_REPLY.detail] = state
  return ret(err)
end
if r[X.outcome_version] ~= ARGV[VERIFY_ARGS.version] then
  return { 'outcome_changed' }
end
local now = now_ms()
r[X.outcome_state] = ARGV[VERIFY_ARGS.valid] == '1' and 'verified_success' or 'verification_failed'
r[X.verdict_by] = 'person'
r[X.outcome_version] = fmt(num(r[X.outcome_version], 0) + 1)
rec_write(id, r)
redis.call('HSET', K_O, id, ARGV[VERIFY_ARGS.outcome])
event(id, r, now)
local out = {}
out[VERIFY_REPLY.code] = 'ok'
out[VERIFY_REPLY.now] = fmt(now)
out[VERIFY_REPLY.outcome_state] = r[X.outcome_state]
out[VERIFY_REPLY.next_due] = ''
return ret(out)

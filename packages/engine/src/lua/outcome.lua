-- outcome: a webhook execution's business outcome, reported by its handler without a lease
-- (CueAPI's POST /v1/executions/{id}/outcome). It is recorded beside the delivery, whatever the
-- status (even before the delivery's 2xx), and never changes the status. Write-once: the same
-- report again gets the same answer, a different one outcome_already_reported. A worker
-- execution's outcome is its lease report: answered 'lease_report' for the caller to use complete
-- or fail (not an error code of the API).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, OUTCOME_ARGS (success '1'/'0'; outcome: the outcome JSON; evidence:
--          EVIDENCE_FLAGS letters; fingerprint: of the report, to tell a repeat from another)
-- Returns  OUTCOME_REPLY
-- Errors   execution_not_found (also internal executions); outcome_already_reported;
--          {'lease_report'}.
local id, fp = ARGV[OUTCOME_ARGS.id], ARGV[OUTCOME_ARGS.fingerprint]
local success = ARGV[OUTCOME_ARGS.success] == '1'
local r = rec_read(id)
if not r or (is_internal(r[X.task]) and r[X.task] ~= WEBHOOK_TASK) then
  return { 'execution_not_found' }
end
if r[X.task] ~= WEBHOOK_TASK then
  return { 'lease_report' }
end
local now = now_ms()
local out = {}
out[OUTCOME_REPLY.code] = 'ok'
out[OUTCOME_REPLY.now] = fmt(now)
out[OUTCOME_REPLY.status] = r[X.status]
out[OUTCOME_REPLY.attempt] = r[X.attempt]
out[OUTCOME_REPLY.outcome_state] = r[X.outcome_state]
out[OUTCOME_REPLY.repeated] = '1'
out[OUTCOME_REPLY.next_due] = ''
if r[X.outcome_fp] ~= '' then
  if r[X.outcome_fp] == fp then
    return ret(out)
  end
  return { 'outcome_already_reported' }
end
local state = record_outcome(id, r, success, ARGV[OUTCOME_ARGS.evidence], now)
r[X.outcome_fp] = fp
if success then
  cue_success(r, now)
else
  cue_failure(r, now)
end
rec_write(id, r)
redis.call('HSET', K_O, id, ARGV[OUTCOME_ARGS.outcome])
event(id, r, now)
commit(now)
out[OUTCOME_REPLY.outcome_state] = state
out[OUTCOME_REPLY.repeated] = '0'
out[OUTCOME_REPLY.next_due] = due_str()
return ret(out)

-- evidence: adds or replaces an outcome's evidence (PATCH /v1/executions/{id}/evidence) and re-runs
-- the cue's verification policy: a require_* policy decides again from the evidence now present
-- (a success may become verified_success); other states stay. A person's verdict (verify or
-- verification-pending, verdict_by 'person') stands: the evidence is recorded, the state is not
-- decided again (docs/outcomes.md, "A person's verdict"). The outcome JSON is merged in
-- TypeScript (no JSON in these scripts); `version` makes the write apply only to what was read.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, EVIDENCE_ARGS
-- Returns  EVIDENCE_REPLY
-- Errors   execution_not_found; no_outcome; ERROR_REPLY outcome_changed (read again and retry).
local id = ARGV[EVIDENCE_ARGS.id]
local r, missing = outcome_record(id)
if not r then
  return { missing }
end
if r[X.outcome_version] ~= ARGV[EVIDENCE_ARGS.version] then
  return { 'outcome_changed' }
end
local now = now_ms()
local mode = cue_field(r, CF.verification) or ''
local before = r[X.outcome_state]
local flags = evidence_note(r, ARGV[EVIDENCE_ARGS.evidence])
if r[X.outcome_success] == '1' and string.sub(mode, 1, 8) == 'require_' and r[X.verdict_by] ~= 'person' then
  r[X.outcome_state] = verified_state(true, mode, flags)
  if r[X.outcome_state] == 'verification_failed' and before ~= 'verification_failed' then
    verification_failed_alert(id, r, now)
  end
end
r[X.outcome_version] = fmt(num(r[X.outcome_version], 0) + 1)
rec_write(id, r)
redis.call('HSET', K_O, id, ARGV[EVIDENCE_ARGS.outcome])
commit(now)
local out = {}
out[EVIDENCE_REPLY.code] = 'ok'
out[EVIDENCE_REPLY.now] = fmt(now)
out[EVIDENCE_REPLY.outcome_state] = r[X.outcome_state]
out[EVIDENCE_REPLY.next_due] = due_str()
return ret(out)

-- complete: valid leases report success; each execution becomes `success`. Takes a batch (a
-- worker's coalesced reports); every item succeeds or fails on its own. A worker's report is its
-- execution's outcome (its state under the cue's verification policy); the dispatcher's report of
-- a webhook delivery is not: it starts the outcome deadline instead (docs/outcomes.md).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, COMPLETE_ARGS, then `count` COMPLETE_ITEMs (lease_token '': CueAPI
--          client; worker_id '': not checked; outcome: the outcome JSON, '' for none; evidence:
--          evidenceFlags; http_status: the dispatcher's delivery's, for its internal tasks)
-- Returns  REPORT_REPLY, then one REPORTED per item, packed into one string (packed())
-- Errors   per item: execution_not_found, lease_lost, outcome_already_reported,
--          not_execution_owner, execution_not_claiming, execution_cancelled (see check_report).
local n, now, out = report_batch(COMPLETE_ARGS, COMPLETE_ITEM)
for i = 0, n - 1 do
  local b = COMPLETE_ARGS._last + i * COMPLETE_ITEM._n
  local id, token, worker = ARGV[b + COMPLETE_ITEM.id], ARGV[b + COMPLETE_ITEM.lease_token], ARGV[b + COMPLETE_ITEM.worker_id]
  local code, r = check_report(id, token, worker, 's', now)
  if code == 'repeat' then
    report_again(out, r)
  elseif code ~= 'ok' then
    reported(out, code)
  else
    remember_report(r, 's', 'success')
    end_lease(id, r, 'success', '', now, true, reported_with(token, worker))
    cue_ran(r, now)
    r[X.delivered_at] = fmt(now)
    if is_internal(r[X.task]) then
      -- The dispatcher's webhook, alert or cue.failed delivery: the receiver's answer.
      r[X.http_status] = ARGV[b + COMPLETE_ITEM.http_status]
    end
    if r[X.task] == WEBHOOK_TASK then
      -- The dispatcher's delivery got a 2xx: delivery, not the outcome, which is due by the cue's
      -- outcome deadline unless its handler already reported it.
      if r[X.outcome_state] == '' then
        local od = num(cue_field(r, CF.outcome_deadline), DEFAULT_OUTCOME_DEADLINE_S)
        r[X.deadline_at] = fmt(now + od * 1000)
        push(W.deadlines_add, r[X.deadline_at], id)
        note_due(now + od * 1000)
      end
    elseif not is_internal(r[X.task]) then
      record_outcome(id, r, true, ARGV[b + COMPLETE_ITEM.evidence], now)
      local outcome = ARGV[b + COMPLETE_ITEM.outcome]
      if outcome ~= '' then
        redis.call('HSET', K_O, id, outcome)
      end
    end
    finish(id, r, 'success', 'delivering', now)
    rec_stage(id, r)
    rate(RF.completions, 1)
    event(id, r, now)
    reported(out, 'ok', 'success', r[X.attempt], '', r[X.outcome_state])
  end
end
commit(now)
return packed(out, REPORT_REPLY)

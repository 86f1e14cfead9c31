-- complete: valid leases report success; each execution becomes `success`. Takes a batch (a
-- worker's coalesced reports); every item succeeds or fails on its own.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, COMPLETE_ARGS, then `count` COMPLETE_ITEMs (lease_token '': CueAPI
--          client; worker_id '': not checked; outcome: the outcome JSON, '' for none)
-- Returns  REPORT_REPLY, then one REPORTED per item
-- Errors   per item: execution_not_found, lease_lost, outcome_already_reported,
--          not_execution_owner, execution_not_claiming, execution_cancelled (see check_report).
local n = tonumber(ARGV[COMPLETE_ARGS.count])
local now = now_ms()
local out = {}
out[REPORT_REPLY.code] = 'ok'
out[REPORT_REPLY.now] = fmt(now)
out[REPORT_REPLY.next_due] = ''
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
    finish(id, r, 'success', 'delivering', now)
    rec_write(id, r)
    local outcome = ARGV[b + COMPLETE_ITEM.outcome]
    if outcome ~= '' then
      redis.call('HSET', K_O, id, outcome)
    end
    rate(RF.completions, 1)
    event(id, r, now)
    reported(out, 'ok', 'success', r[X.attempt], '')
  end
end
commit(now)
return ret(out)

-- complete: a valid lease reports success; the execution becomes `success`.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  execution id
-- ARGV[7]  lease token ('': CueAPI client)
-- ARGV[8]  worker id ('': not checked)
-- ARGV[9]  outcome evidence JSON ('': none)
-- Returns {'ok', status, attempt, next attempt ms or '', now, '1' if this repeats an earlier report}
-- Errors: execution_not_found, lease_lost, outcome_already_reported, not_execution_owner,
--         execution_not_claiming, execution_cancelled (see check_report in _lib.lua).
local id, token, worker, evidence = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local now = now_ms()
local code, f = check_report(id, token, worker, 's', now)
if code == 'repeat' then
  return { 'ok', f[7], f[8], '', fmt(now), '1' }
end
if code ~= 'ok' then
  return { code }
end
local task, attempt, holder = f[9], tonumber(f[10]), f[4]
end_lease(id, holder, 'success', '', now)
cue_ran(id, now)
finish(id, task, 'success', 'delivering', now)
remember_report(id, f[2], 's', 'success', attempt)
if evidence ~= '' then
  redis.call('SET', k_outcome(id), evidence)
end
worker_inc(holder, 'co', 1)
event(id, task, 'success', attempt, holder, now)
return { 'ok', 'success', fmt(attempt), '', fmt(now), '0' }

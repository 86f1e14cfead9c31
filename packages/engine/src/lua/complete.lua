-- complete: valid leases report success; each execution becomes `success`. Takes a batch (a
-- worker's coalesced reports); every item succeeds or fails on its own.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  n: number of items
-- ARGV[7..] n items of 4: execution id, lease token ('': CueAPI client), worker id ('': not
--          checked), outcome evidence JSON ('': none)
-- Returns {'ok', now, then per item: code ('ok' or an error code), status, attempt,
--          '1' if this repeats an earlier report}
-- Errors (per item): execution_not_found, lease_lost, outcome_already_reported,
--         not_execution_owner, execution_not_claiming, execution_cancelled (see check_report).
local n = tonumber(ARGV[6])
local now = now_ms()
local out = { 'ok', fmt(now) }
for i = 0, n - 1 do
  local b = 7 + i * 4
  local id, token, worker, evidence = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local code, f = check_report(id, token, worker, 's', now)
  if code == 'repeat' then
    local status, attempt = repeat_answer(f)
    push(out, 'ok', status, attempt, '1')
  elseif code ~= 'ok' then
    push(out, code, '', '', '')
  else
    local task, attempt = f[F_T], tonumber(f[F_A])
    local extra = report_fields(f[F_TOK], 's', 'success', attempt)
    push(extra, unpack(end_lease(id, f, 'success', '', now, true, reported_with(token, worker))))
    cue_ran(f[F_CUE], now)
    finish(id, task, 'success', 'delivering', now, extra, f)
    if evidence ~= '' then
      redis.call('SET', k_outcome(id), evidence)
    end
    event(id, task, 'success', attempt, f[F_W], now)
    push(out, 'ok', 'success', fmt(attempt), '0')
  end
end
commit()
return ret(out)

-- fail: valid leases report failure; a batch, each item on its own. The attempt is consumed: with
-- attempts left and a retryable failure the execution is `retrying` until now + backoff (or
-- `pending` at once when the backoff is 0), otherwise `failed`. A cancel-requested execution
-- becomes `cancelled`.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, FAIL_ARGS (default_backoff: seconds csv), then `count` FAIL_ITEMs
-- Returns  REPORT_REPLY, then one REPORTED per item, packed (packed()); next_at: when a retrying one is due
-- Errors   per item: as complete.lua.
local n, now, out = report_batch(FAIL_ARGS, FAIL_ITEM)
local default_bo = ARGV[FAIL_ARGS.default_backoff]
for i = 0, n - 1 do
  local b = FAIL_ARGS._last + i * FAIL_ITEM._n
  local id, token, worker = ARGV[b + FAIL_ITEM.id], ARGV[b + FAIL_ITEM.lease_token], ARGV[b + FAIL_ITEM.worker_id]
  local err, retry, retry_after = ARGV[b + FAIL_ITEM.error], ARGV[b + FAIL_ITEM.retry] == '1', ARGV[b + FAIL_ITEM.retry_after_ms]
  local code, r = check_report(id, token, worker, 'f', now)
  if code == 'repeat' then
    report_again(out, r)
  elseif code ~= 'ok' then
    reported(out, code)
  else
    local delay = 0
    local status
    if r[X.cancel_requested] == '1' then
      status = 'cancelled'
    elseif retry and attempts_used(r) < max_attempts(r) then
      if retry_after ~= '' then
        delay = tonumber(retry_after)
      else
        local bo = r[X.backoff]
        if bo == '' then
          bo = default_bo
        end
        delay = backoff_ms(bo, attempts_used(r))
      end
      status = delay > 0 and 'retrying' or 'pending'
    else
      status = 'failed'
    end
    local terminal = status == 'cancelled' or status == 'failed'
    remember_report(r, 'f', status)
    r[X.error_message] = clip(err, 2000)
    end_lease(id, r, 'failure', err, now, terminal, reported_with(token, worker))
    cue_ran(r, now)
    if is_internal(r[X.task]) then
      -- The dispatcher's webhook, alert or cue.failed delivery: the receiver's answer (or none).
      r[X.http_status] = ARGV[b + FAIL_ITEM.http_status]
    else
      record_outcome(id, r, false, '', now)
    end
    local next_at = ''
    if status == 'retrying' then
      next_at = fmt(now + delay)
      make_waiting(id, r, 'retrying', 'delivering', now + delay, now)
    elseif status == 'pending' then
      make_pending(id, r, 'delivering', now)
    else
      local reason = 'cancelled'
      if status == 'failed' then
        reason = retry and 'attempts_exhausted' or 'non_retryable'
      end
      r[X.failure_reason] = reason
      finish(id, r, status, 'delivering', now)
    end
    rec_stage(id, r)
    local outcome = ARGV[b + FAIL_ITEM.outcome]
    if outcome ~= '' and r[X.task] ~= WEBHOOK_TASK then
      redis.call('HSET', K_O, id, outcome)
    end
    rate(RF.failures, 1)
    event(id, r, now)
    reported(out, 'ok', status, r[X.attempt], next_at, r[X.outcome_state])
  end
end
out[REPORT_REPLY.next_due] = due_str()
commit(now)
return packed(out, REPORT_REPLY)

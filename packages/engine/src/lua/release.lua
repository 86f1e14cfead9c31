-- release: valid leases give their executions back (nack) without consuming an attempt: `pending`
-- at once, or `scheduled` after a delay; a cancel-requested one becomes `cancelled`. A batch,
-- each item on its own. The released attempt keeps its number; the next claim gets the next one.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, RELEASE_ARGS, then `count` RELEASE_ITEMs (delay_ms '' or '0': none)
-- Returns  REPORT_REPLY, then one REPORTED per item, packed (packed()); next_at: when a scheduled one is due
-- Errors   per item: as complete.lua.
local n, now, out = report_batch(RELEASE_ARGS, RELEASE_ITEM)
for i = 0, n - 1 do
  local b = RELEASE_ARGS._last + i * RELEASE_ITEM._n
  local id, token, worker = ARGV[b + RELEASE_ITEM.id], ARGV[b + RELEASE_ITEM.lease_token], ARGV[b + RELEASE_ITEM.worker_id]
  local delay = num(ARGV[b + RELEASE_ITEM.delay_ms], 0)
  local code, r = check_report(id, token, worker, 'r', now)
  if code == 'repeat' then
    report_again(out, r)
  elseif code ~= 'ok' then
    reported(out, code)
  else
    local status
    if r[X.cancel_requested] == '1' then
      status = 'cancelled'
    elseif delay > 0 then
      status = 'scheduled'
    else
      status = 'pending'
    end
    remember_report(r, 'r', status)
    r[X.released] = fmt(num(r[X.released], 0) + 1)
    end_lease(id, r, 'released', '', now, status == 'cancelled', reported_with(token, worker))
    local next_at = ''
    if status == 'cancelled' then
      r[X.failure_reason] = 'cancelled'
      finish(id, r, 'cancelled', 'delivering', now)
    elseif status == 'scheduled' then
      next_at = fmt(now + delay)
      make_waiting(id, r, 'scheduled', 'delivering', now + delay, now)
    else
      make_pending(id, r, 'delivering', now)
    end
    rec_stage(id, r)
    event(id, r, now)
    reported(out, 'ok', status, r[X.attempt], next_at)
  end
end
out[REPORT_REPLY.next_due] = due_str()
commit(now)
return packed(out, REPORT_REPLY)

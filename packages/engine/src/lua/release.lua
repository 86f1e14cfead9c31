-- release: a valid lease gives the execution back (nack) without consuming an attempt:
-- `pending` at once, or `scheduled` after a delay. A cancel-requested one becomes `cancelled`.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  execution id
-- ARGV[7]  lease token ('': CueAPI client)
-- ARGV[8]  worker id ('': not checked)
-- ARGV[9]  delay ms ('' or '0': none)
-- Returns {'ok', status, attempt, next attempt ms or '', now, '1' if this repeats an earlier release}
-- Errors: as complete.lua.
local id, token, worker, delay = ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]) or 0
local now = now_ms()
local code, f = check_report(id, token, worker, 'r', now)
if code == 'repeat' then
  local status, attempt = repeat_answer(f)
  return { 'ok', status, attempt, '', fmt(now), '1' }
end
if code ~= 'ok' then
  return { code }
end
local task, attempt, prio = f[F_T], tonumber(f[F_A]), f[F_PR] or '0'
local status
if f[F_CX] == '1' then
  status = 'cancelled'
elseif delay > 0 then
  status = 'scheduled'
else
  status = 'pending'
end
local extra = report_fields(f[F_TOK], 'r', status, attempt)
-- The attempt keeps its number (the next claim gets the next one) but is not counted as used.
push(extra, 'rl', fmt(num(f[F_RL], 0) + 1))
push(extra, unpack(end_lease(id, f, 'released', '', now, status == 'cancelled', reported_with(token, worker))))
if status == 'cancelled' then
  push(extra, 'fr', 'cancelled')
  finish(id, task, 'cancelled', 'delivering', now, extra, f)
elseif status == 'scheduled' then
  make_waiting(id, task, 'scheduled', 'delivering', now + delay, now, extra)
else
  make_pending(id, task, prio, 'delivering', now, extra)
end
event(id, task, status, attempt, f[F_W], now)
commit()
return { 'ok', status, fmt(attempt), due_str(), fmt(now), '0' }

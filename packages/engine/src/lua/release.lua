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
  return { 'ok', f[7], f[8], '', fmt(now), '1' }
end
if code ~= 'ok' then
  return { code }
end
local e = k_exec(id)
local task, attempt, prio, holder = f[9], tonumber(f[10]) - 1, f[12] or '0', f[4]
end_lease(id, holder, 'released', '', now)
redis.call('HSET', e, 'a', fmt(attempt))
local status
if f[14] == '1' then
  finish(id, task, 'cancelled', 'delivering', now)
  redis.call('HSET', e, 'fr', 'cancelled')
  status = 'cancelled'
elseif delay > 0 then
  make_waiting(id, task, 'scheduled', 'delivering', now + delay, now)
  status = 'scheduled'
else
  make_pending(id, task, prio, 'delivering', now)
  status = 'pending'
end
remember_report(id, f[2], 'r', status, attempt)
event(id, task, status, attempt, holder, now)
flush_notify()
return { 'ok', status, fmt(attempt), due_str(), fmt(now), '0' }

-- cue_fire: a manual fire, whatever the schedule or status: one new execution now (or at send_at).
-- It is not a tick: it neither advances the schedule, nor counts against tick dedupe, nor counts in
-- fired_count (CueAPI counts the scheduler's fires there).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  cue id
-- ARGV[7]  execution id
-- ARGV[8]  at ms ('' = now)
-- ARGV[9]  payload JSON (the effective one: the cue's, merged with or replaced by the override)
-- ARGV[10] task
-- ARGV[11] inline payload limit in bytes
-- ARGV[12] idempotency key ('' = none)
-- ARGV[13] idempotency key TTL in seconds
-- Returns {'ok', now, execution id, created ('1') or deduplicated ('0'), next due ms or ''}
-- Errors: cue_not_found.
local id, eid, at, payload, task, inline_max = ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], tonumber(ARGV[11])
local ik = ARGV[12]
local c = k_cue(id)
local f = hmget(c, 'n', 'm', 'bo', 'ls')
if not f[1] then
  return { 'cue_not_found' }
end
local now = now_ms()
local idem = ''
if ik ~= '' then
  idem = 'cue:' .. id .. ':' .. ik
  local existing = redis.call('GET', k_idem(idem))
  if existing and redis.call('EXISTS', k_exec(existing)) == 1 then
    return { 'ok', fmt(now), existing, '0', '' }
  end
  redis.call('SET', k_idem(idem), eid, 'EX', ARGV[13])
end
create_execution(eid, task, payload, '0', f[2], f[3] or '', f[4] or '', at, '', idem, id, f[1], '', inline_max, now,
  'manual_fire')
commit()
return { 'ok', fmt(now), eid, '1', due_str() }

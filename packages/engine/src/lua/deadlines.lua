-- deadlines: outcome deadlines that passed. A webhook delivered without an outcome by its cue's
-- outcome_deadline_seconds, and a cue's worker execution not claimed by then (missed), get
-- outcome_state `unknown` and an outcome_timeout alert; a missed one also runs the cue's
-- on_failure. The execution itself is untouched: a missed one stays claimable, and a late outcome
-- still records. A member 'w:<cue>' is a recurring cue's missed window (lib window_arm): passed
-- without a success, it raises a missed_window alert (de-duplicated per cue) and is armed again for
-- the next window while the cue stays active. Cost is proportional to the number passed (the index
-- is read from its earliest).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, DEADLINES_ARGS (limit: at most this many per call)
-- Returns  DEADLINES_REPLY
-- Errors   none.
local limit = tonumber(ARGV[DEADLINES_ARGS.limit])
local now = now_ms()
local ids = redis.call('ZRANGEBYSCORE', K_DEADLINES, '-inf', fmt(now), 'LIMIT', 0, limit)
local passed = 0
for _, id in ipairs(ids) do
  local cue = string.match(id, '^w:(.+)$')
  local r = not cue and rec_read(id)
  if cue then
    W.deadlines_rem[#W.deadlines_rem + 1] = id
    local st, ty = unpack(hmget(k_cue(cue), CF.status, CF.type))
    local window = num(redis.call('HGET', k_cue(cue), CF.missed_window), 0)
    if st == 'active' and ty == 'recurring' and window > 0 then
      alert_raise('missed_window', cue, cue, '', 'Cue ' .. cue .. ' has not succeeded within ' ..
        fmt(math.floor(window / 1000)) .. ' s (missed_window_multiplier × its schedule interval)',
        '{"window_seconds":' .. fmt(math.floor(window / 1000)) .. '}', now)
      window_arm(cue, now, false)
    end
  elseif not r or r[X.deadline_at] == '' then
    W.deadlines_rem[#W.deadlines_rem + 1] = id
  elseif tonumber(r[X.deadline_at]) > now then
    redis.call('ZADD', K_DEADLINES, r[X.deadline_at], id)
  else
    W.deadlines_rem[#W.deadlines_rem + 1] = id
    r[X.deadline_at] = ''
    if r[X.outcome_state] == '' then
      local webhook = r[X.task] == WEBHOOK_TASK
      r[X.outcome_state] = 'unknown'
      r[X.outcome_version] = fmt(num(r[X.outcome_version], 0) + 1)
      if r[X.cue_id] ~= '' then
        cue_day_add(r[X.cue_id], CDF.misses, 1)
      end
      local what = webhook and 'was delivered but reported no outcome' or 'was not claimed'
      alert_raise('outcome_timeout', id, r[X.cue_id], id, 'Execution ' .. id .. ' ' .. what ..
        ' by its outcome deadline', '{"transport":"' .. (webhook and 'webhook' or 'worker') .. '"}', now)
      if not webhook and r[X.cue_id] ~= '' then
        on_failure_run(id, r, now)
      end
      passed = passed + 1
      event(id, r, now)
    end
    rec_write(id, r)
  end
end
commit(now)
local out = {}
out[DEADLINES_REPLY.code] = 'ok'
out[DEADLINES_REPLY.now] = fmt(now)
out[DEADLINES_REPLY.passed] = passed
out[DEADLINES_REPLY.next_due] = first_score(K_DEADLINES) or ''
return ret(out)

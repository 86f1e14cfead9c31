-- cue_tick: fires a cue's due ticks, each as a new execution (scheduled_for = the tick), and moves
-- the cue to its next fire time. This is the dedupe on (cue, scheduled_for): it applies only if the
-- cue still has the version and next fire time the plan was made from (another server that fired
-- first, or an edit, makes it a no-op), and a tick at or before the last fired one never fires
-- again, so any number of schedulers fire each tick exactly once.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CUE_TICK_ARGS, then `tick_count` pairs: execution id, tick ms
--          (ascending)
-- Returns  CUE_TICK_REPLY (fired: 0 for a stale plan; next_run: the cue's next fire time or '')
-- Errors   none.
local id, version = ARGV[CUE_TICK_ARGS.id], ARGV[CUE_TICK_ARGS.version]
local expected, nr = ARGV[CUE_TICK_ARGS.expected_next_run], ARGV[CUE_TICK_ARGS.next_run]
local n = tonumber(ARGV[CUE_TICK_ARGS.tick_count])
local now = now_ms()
local c = k_cue(id)
local st, v, cur_nr, last_fired, ty, task, payload, max, bo, ls, name = unpack(hmget(c, CF.status, CF.version,
  CF.next_run, CF.last_fired, CF.type, CF.task, CF.payload, CF.max_attempts, CF.backoff, CF.lease_seconds, CF.name))
local out = {}
out[CUE_TICK_REPLY.code] = 'ok'
out[CUE_TICK_REPLY.now] = fmt(now)
out[CUE_TICK_REPLY.fired] = 0
out[CUE_TICK_REPLY.next_run] = cur_nr or ''
out[CUE_TICK_REPLY.status] = st or ''
out[CUE_TICK_REPLY.next_due] = ''
if st ~= 'active' or v ~= version or cur_nr ~= expected then
  return ret(out)
end
local lf = num(last_fired, -1)
local fired = 0
for i = 0, n - 1 do
  local eid, tick = ARGV[CUE_TICK_ARGS._last + 2 * i + 1], tonumber(ARGV[CUE_TICK_ARGS._last + 2 * i + 2])
  if tick > lf then
    create_execution(eid, {
      task = task,
      payload = payload,
      max_attempts = max,
      backoff = bo,
      lease_seconds = ls,
      at = fmt(tick),
      cue_id = id,
      cue_name = name,
      triggered_by = 'scheduled',
    }, now)
    lf = tick
    fired = fired + 1
  end
end
local status = st
if nr ~= '' then
  redis.call('HSET', c, CF.next_run, nr)
  redis.call('ZADD', K_CUE_DUE, nr, id)
  note_due(tonumber(nr))
else
  redis.call('HDEL', c, CF.next_run)
  redis.call('ZREM', K_CUE_DUE, id)
  if ty == 'once' and fired == 0 and lf < tonumber(expected) then
    -- Its one tick was missed and the catch-up policy skips it.
    status = 'failed'
    redis.call('HSET', c, CF.status, status, CF.updated_at, fmt(now))
  end
end
if fired > 0 then
  redis.call('HSET', c, CF.last_fired, fmt(lf))
  redis.call('HINCRBY', c, CF.fired_count, fired)
  -- A cue that fires is watched for a success within its missed window from then on.
  window_arm(id, now, true)
end
commit(now)
out[CUE_TICK_REPLY.fired] = fired
out[CUE_TICK_REPLY.next_run] = nr
out[CUE_TICK_REPLY.status] = status
out[CUE_TICK_REPLY.next_due] = due_str()
return ret(out)

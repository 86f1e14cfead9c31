-- replay: a terminal execution is run again as a new execution (new id, attempt 0, same task,
-- payload, limits and cue), with replayed_from pointing at the original.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, REPLAY_ARGS (id: the new execution's, in the same partition)
-- Returns  REPLAY_REPLY
-- Errors   execution_not_found; execution_not_terminal.
local src, id = ARGV[REPLAY_ARGS.source_id], ARGV[REPLAY_ARGS.id]
local r = rec_read(src)
if not r then
  return { 'execution_not_found' }
end
local s = r[X.status]
if s ~= 'success' and s ~= 'failed' and s ~= 'cancelled' then
  return { 'execution_not_terminal' }
end
local now = now_ms()
local status = create_execution(id, {
  task = r[X.task],
  payload = payload_of(src, r),
  priority = r[X.priority],
  max_attempts = r[X.max_attempts],
  backoff = r[X.backoff],
  lease_seconds = r[X.lease_seconds],
  cue_id = r[X.cue_id],
  cue_name = r[X.cue_name],
  triggered_by = 'replay',
  replayed_from = src,
}, now)
commit(now)
local out = {}
out[REPLAY_REPLY.code] = 'ok'
out[REPLAY_REPLY.now] = fmt(now)
out[REPLAY_REPLY.id] = id
out[REPLAY_REPLY.status] = status
out[REPLAY_REPLY.next_due] = due_str()
return ret(out)

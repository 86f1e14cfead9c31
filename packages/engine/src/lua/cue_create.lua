-- cue_create: stores a new cue under a name unique in its tenant and, when it is active with a next
-- fire time, puts it in the due index the scheduler reads.
-- Cue hash fields: n name, st status (active, paused, completed, failed), ty type (recurring, once),
-- tp transport (worker, webhook), t task its executions are queued under, pl payload JSON,
-- m max attempts, bo backoff seconds csv, ls lease seconds of its executions ('' = the default),
-- nr next fire time (absent = none), lf last fired tick (a tick at or before it never fires again),
-- lr last run (last reported attempt), rc run count, fc fired count, v version (+1 per edit),
-- c created, u updated, cfg the client's configuration JSON (cron, at, timezone, callback, ...),
-- pc the tenant's partition count (execution ids it fires must fall in this partition).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  cue id
-- ARGV[7]  name
-- ARGV[8]  type
-- ARGV[9]  transport
-- ARGV[10] task
-- ARGV[11] payload JSON
-- ARGV[12] max attempts
-- ARGV[13] backoff seconds csv
-- ARGV[14] lease seconds ('')
-- ARGV[15] next fire time ms ('' = none)
-- ARGV[16] configuration JSON
-- ARGV[17] the tenant's partition count
-- Returns {'ok', now}
-- Errors: duplicate_cue_name.
local id, name, nr = ARGV[6], ARGV[7], ARGV[15]
if redis.call('HSETNX', K_CUE_NAMES, name, id) == 0 then
  return { 'duplicate_cue_name' }
end
local now = now_ms()
local c = k_cue(id)
redis.call('HSET', c, 'n', name, 'st', 'active', 'ty', ARGV[8], 'tp', ARGV[9], 't', ARGV[10], 'pl', ARGV[11],
  'm', ARGV[12], 'bo', ARGV[13], 'ls', ARGV[14], 'cfg', ARGV[16], 'v', '1', 'rc', '0', 'fc', '0', 'c', fmt(now),
  'u', fmt(now), 'pc', ARGV[17])
if nr ~= '' then
  redis.call('HSET', c, 'nr', nr)
  redis.call('ZADD', K_CUE_DUE, nr, id)
end
redis.call('ZADD', K_CUES, fmt(now), id)
return { 'ok', fmt(now) }

-- worker_beat: a worker's own heartbeat (CueAPI's POST /v1/worker/heartbeat): marks it seen
-- and records the handlers it serves.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  worker id
-- ARGV[7]  handlers as JSON ('': keep the previous list)
-- Returns {'ok', now}
-- Errors: none.
local worker, handlers = ARGV[6], ARGV[7]
local now = now_ms()
worker_seen(worker, now)
if handlers ~= '' then
  redis.call('HSET', k_worker(worker), 'hd', handlers)
end
return { 'ok', fmt(now) }

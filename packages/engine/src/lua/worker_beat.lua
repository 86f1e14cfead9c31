-- worker_beat: a worker's own heartbeat (CueAPI's POST /v1/worker/heartbeat): marks it seen
-- and records the handlers it serves.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, WORKER_BEAT_ARGS (handlers: JSON, '' = keep the previous list)
-- Returns  OK_REPLY
-- Errors   none.
local worker, handlers = ARGV[WORKER_BEAT_ARGS.worker_id], ARGV[WORKER_BEAT_ARGS.handlers]
local now = now_ms()
worker_seen(worker, now)
if handlers ~= '' then
  redis.call('HSET', k_worker(worker), WF.handlers, handlers)
end
local out = {}
out[OK_REPLY.code] = 'ok'
out[OK_REPLY.now] = fmt(now)
return ret(out)

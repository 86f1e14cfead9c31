-- queues: per-task counts by status, and when each task's oldest pending execution became
-- pending (the oldest head among the task's priority bands).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header
-- Returns  QUEUES_REPLY (counts: the counts hash flat, `task SEP status` -> n; oldest: flat task,
--          pending since ms)
-- Errors   none.
local oldest = {}
for _, task in ipairs(redis.call('ZRANGE', K_READY, 0, -1)) do
  local best
  for _, id in ipairs(band_heads(task)) do
    local r = rec_read(id)
    if r then
      local since = num(r[X.updated_at], created_ms(r))
      if best == nil or since < best then
        best = since
      end
    end
  end
  if best then
    oldest[#oldest + 1] = task
    oldest[#oldest + 1] = fmt(best)
  end
end
local out = {}
out[QUEUES_REPLY.code] = 'ok'
out[QUEUES_REPLY.now] = fmt(now_ms())
out[QUEUES_REPLY.counts] = redis.call('HGETALL', K_COUNTS)
out[QUEUES_REPLY.oldest] = ret(oldest)
return ret(out)

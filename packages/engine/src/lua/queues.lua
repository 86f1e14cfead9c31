-- queues: per-task counts by status, and when each task's oldest pending execution became
-- pending (the oldest head among the task's priority bands).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- Returns {'ok', now, {counts: field, value, ...}, {task, pending since ms, ...}}
-- Errors: none.
local oldest = {}
for _, task in ipairs(redis.call('ZRANGE', K_READY, 0, -1)) do
  local best
  for _, id in ipairs(band_heads(task)) do
    local since = tonumber(redis.call('HGET', k_exec(id), 'u') or '')
    if since and (best == nil or since < best) then
      best = since
    end
  end
  if best then
    oldest[#oldest + 1] = task
    oldest[#oldest + 1] = fmt(best)
  end
end
return { 'ok', fmt(now_ms()), redis.call('HGETALL', K_COUNTS), ret(oldest) }

-- claimable: up to `limit` pending executions, task filter applied before the limit (a busy task
-- cannot hide a quiet one). Informational: nothing is leased. The queues hold exactly the pending
-- executions, so the cost is proportional to what is listed.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  limit
-- ARGV[7]  number of task names that follow (0: every task, best first)
-- ARGV[8..] task names
-- Returns {'ok', now, n, then n items of 7: id, task, payload JSON, scheduled_for ms, attempt,
--          cue id, cue name}
-- Errors: none.
local limit, ntasks = tonumber(ARGV[6]), tonumber(ARGV[7])
local tasks = {}
if ntasks > 0 then
  for i = 1, ntasks do
    tasks[i] = ARGV[7 + i]
  end
else
  -- Internal tasks (`@...`) are never listed to workers.
  for _, t in ipairs(redis.call('ZRANGE', K_READY, 0, -1)) do
    if string.sub(t, 1, 1) ~= '@' then
      tasks[#tasks + 1] = t
    end
  end
end
local out = { 'ok', fmt(now_ms()), 0 }
local n = 0
for _, task in ipairs(tasks) do
  if n >= limit then
    break
  end
  for _, id in ipairs(redis.call('ZRANGE', k_queue(task), 0, limit - n - 1)) do
    local f = hmget(k_exec(id), 'sf', 'c', 'a', 'cue', 'cn', 'pl', 'px')
    n = n + 1
    push(out, id, task, payload_of(id, f[6], f[7]), f[1] or f[2], f[3] or '0', f[4] or '', f[5] or '')
  end
end
out[3] = n
return ret(out)

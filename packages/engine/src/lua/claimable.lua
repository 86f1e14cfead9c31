-- claimable: up to `limit` pending executions, task filter applied before the limit (a busy task
-- cannot hide a quiet one). Informational: nothing is leased. The queues hold exactly the pending
-- executions, so the cost is proportional to what is listed.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CLAIMABLE_ARGS, then `task_count` task names (none: every task,
--          best first)
-- Returns  CLAIMABLE_REPLY, then `count` CLAIMABLE items
-- Errors   none.
local limit, ntasks = tonumber(ARGV[CLAIMABLE_ARGS.limit]), tonumber(ARGV[CLAIMABLE_ARGS.task_count])
local tasks = {}
if ntasks > 0 then
  for i = 1, ntasks do
    tasks[i] = ARGV[CLAIMABLE_ARGS._last + i]
  end
else
  -- Internal tasks (`@...`) are never listed to workers.
  for _, t in ipairs(redis.call('ZRANGE', K_READY, 0, -1)) do
    if string.sub(t, 1, 1) ~= '@' then
      tasks[#tasks + 1] = t
    end
  end
end
local out = {}
out[CLAIMABLE_REPLY.code] = 'ok'
out[CLAIMABLE_REPLY.now] = fmt(now_ms())
out[CLAIMABLE_REPLY.count] = 0
local n = 0
for _, task in ipairs(tasks) do
  if n >= limit then
    break
  end
  for _, id in ipairs(redis.call('ZRANGE', k_queue(task), 0, limit - n - 1)) do
    local r = rec_read(id)
    if r then
      n = n + 1
      local b = #out
      out[b + CLAIMABLE.id] = id
      out[b + CLAIMABLE.task] = task
      out[b + CLAIMABLE.payload] = payload_of(id, r)
      out[b + CLAIMABLE.scheduled_for] = r[X.scheduled_for]
      out[b + CLAIMABLE.created_at] = r[X.created_at]
      out[b + CLAIMABLE.attempt] = r[X.attempt]
      out[b + CLAIMABLE.cue_id] = r[X.cue_id]
      out[b + CLAIMABLE.cue_name] = r[X.cue_name]
    end
  end
end
out[CLAIMABLE_REPLY.count] = n
return ret(out)

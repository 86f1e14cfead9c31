-- claim: leases up to `max` pending executions to one worker, best first: highest priority, then
-- the oldest queue head across the requested tasks, FIFO within a task and priority. Runs of one
-- queue that keep that order are taken in one read.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CLAIM_ARGS, then `task_count` task names (none: any task)
-- Returns  CLAIM_REPLY, then `count` CLAIMED items packed into one string (packed())
-- Errors   none (nothing claimable is count 0).
local worker, max = ARGV[CLAIM_ARGS.worker_id], tonumber(ARGV[CLAIM_ARGS.max])
local lease_ms, default_ms = tonumber(ARGV[CLAIM_ARGS.lease_ms]), tonumber(ARGV[CLAIM_ARGS.default_lease_ms])
local base = ARGV[CLAIM_ARGS.token_base]
local ntasks = tonumber(ARGV[CLAIM_ARGS.task_count])
local tasks = nil
if ntasks > 0 then
  tasks = {}
  for i = 1, ntasks do
    tasks[i] = ARGV[CLAIM_ARGS._last + i]
  end
end
local now = now_ms()
local out = {}
out[CLAIM_REPLY.code] = 'ok'
out[CLAIM_REPLY.now] = fmt(now)
out[CLAIM_REPLY.count] = 0
out[CLAIM_REPLY.next_due] = ''
local n = 0
-- The queues hold exactly the pending executions, so every entry taken is granted; each round
-- takes at least one entry, so the loop ends.
while n < max do
  local task, limit = best_queue(tasks)
  if not task then
    break
  end
  local taken = queue_take(task, max - n, limit)
  rec_prefetch(taken)
  for _, id in ipairs(taken) do
    local r = rec_read(id)
    if r and r[X.status] == 'pending' then
      n = n + 1
      grant(id, r, worker, lease_ms, default_ms, base .. '.' .. n, now, out)
    end
  end
end
out[CLAIM_REPLY.count] = n
out[CLAIM_REPLY.next_due] = due_str()
worker_seen(worker, now)
commit(now)
return packed(out, CLAIM_REPLY)

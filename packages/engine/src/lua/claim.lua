-- claim: leases up to `max` pending executions to one worker, best first: highest priority, then
-- the oldest queue head across the requested tasks, FIFO within a task and priority. Runs of one
-- queue that keep that order are taken in one LRANGE/LTRIM.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  worker id
-- ARGV[7]  max executions (1..100)
-- ARGV[8]  lease ms for this claim (0: the execution's own lease_seconds, else ARGV[9])
-- ARGV[9]  default lease ms
-- ARGV[10] token base (random); each lease's token is base .. '.' .. i
-- ARGV[11] number of task names that follow (0: any task); no duplicates
-- ARGV[12..] task names
-- Returns {'ok', now, n, then n items of 12 fields: id, task, payload JSON, scheduled_for ms,
--          attempt, max attempts, epoch, expires_at ms, lease ms, token, cue id, cue name}
-- Errors: none (nothing claimable is n = 0).
local worker, max, lease_ms, default_ms, base = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local ntasks = tonumber(ARGV[11])
local tasks = nil
if ntasks > 0 then
  tasks = {}
  for i = 1, ntasks do
    tasks[i] = ARGV[11 + i]
  end
end
local now = now_ms()
local out = { 'ok', fmt(now), 0 }
local n = 0
-- The queues hold exactly the pending executions, so every entry taken is granted; each round
-- takes at least one entry, so the loop ends.
while n < max do
  local task, limit = best_queue(tasks)
  if not task then
    break
  end
  for _, id in ipairs(queue_take(task, max - n, limit)) do
    local g = hmget(k_exec(id), unpack(CLAIM_READ))
    if g[1] == 'pending' then
      n = n + 1
      push(out, unpack(grant(id, g, worker, lease_ms, default_ms, base .. '.' .. n, now)))
    end
  end
end
out[3] = n
worker_seen(worker, now)
commit()
return ret(out)

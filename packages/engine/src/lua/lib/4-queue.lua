-- pending queues ------------------------------------------------------------------------------
-- One sorted set per task holds exactly its pending executions (member: id, score: priority rank
-- * 2^40 + queue sequence): removal by id is exact, so a cancel or a claim by id never leaves an
-- entry behind for later claims to skip. K_READY holds each non-empty task's best score.

local function rank(prio)
  return 1000 - num(prio, 0)
end

local function refresh_ready(task)
  local head, score = unpack(redis.call('ZRANGE', k_queue(task), 0, 0, 'WITHSCORES'))
  if head then
    redis.call('ZADD', K_READY, score, task)
  else
    redis.call('ZREM', K_READY, task)
  end
end

-- Queue sequence numbers come in blocks: one INCRBY per script, not one INCR per execution.
-- Unused numbers of a block are simply skipped; order across scripts is kept.
local SEQ_NEXT, SEQ_LAST = 0, -1
local function next_seq()
  if SEQ_NEXT > SEQ_LAST then
    SEQ_LAST = tonumber(redis.call('INCRBY', K_SEQ, 1024))
    SEQ_NEXT = SEQ_LAST - 1023
  end
  local seq = SEQ_NEXT
  SEQ_NEXT = SEQ_NEXT + 1
  return seq
end

-- Queues the execution at the tail of its task and priority (written by commit).
local function queue_push(id, task, prio)
  local score = rank(prio) * RANK_BASE + next_seq()
  local pending = W.queues[task]
  if not pending then
    pending = { entries = {}, lowest = score }
    W.queues[task] = pending
    W.queue_order[#W.queue_order + 1] = task
  end
  push(pending.entries, fmt(score), id)
  if score < pending.lowest then
    pending.lowest = score
  end
  W.notify[task] = (W.notify[task] or 0) + 1
  W.notify_n = W.notify_n + 1
end

-- Takes a pending execution out of its queue (cancel, claim by id).
local function queue_remove(id, task)
  if redis.call('ZREM', k_queue(task), id) == 1 then
    refresh_ready(task)
  end
end

-- The best non-empty queue among `tasks` (nil: any task): lowest score = highest priority, then
-- oldest. Returns the task and the score of the next-best task: entries of the best task keep
-- the global order while their score stays below it.
local function best_queue(tasks)
  local task, best, second = nil, nil, math.huge
  if tasks == nil then
    -- Internal tasks (`@...`, e.g. webhook deliveries) are claimed only by name.
    local r = redis.call('ZRANGE', K_READY, 0, 7, 'WITHSCORES')
    for i = 1, #r, 2 do
      if string.sub(r[i], 1, 1) ~= '@' then
        if not task then
          task, best = r[i], tonumber(r[i + 1])
        else
          second = tonumber(r[i + 1])
          break
        end
      end
    end
  else
    for _, t in ipairs(tasks) do
      local s = redis.call('ZSCORE', K_READY, t)
      if s then
        s = tonumber(s)
        if best == nil or s < best then
          if best ~= nil then
            second = best
          end
          task, best = t, s
        elseif s < second then
          second = s
        end
      end
    end
  end
  return task, second
end

-- Takes up to `want` executions from the head of a task's queue, stopping before the first whose
-- score reaches `limit` (the head itself is always taken). Returns their ids.
local function queue_take(task, want, limit)
  local q = k_queue(task)
  local entries = redis.call('ZRANGE', q, 0, want - 1, 'WITHSCORES')
  local taken = {}
  for i = 1, #entries, 2 do
    if i > 1 and tonumber(entries[i + 1]) >= limit then
      break
    end
    taken[#taken + 1] = entries[i]
  end
  if #taken > 0 then
    redis.call('ZREMRANGEBYRANK', q, 0, #taken - 1)
    refresh_ready(task)
  end
  return taken
end

-- The queue-order head of each priority band of a task: one read per priority in use.
local function band_heads(task)
  local q, heads = k_queue(task), {}
  local head, score = unpack(redis.call('ZRANGE', q, 0, 0, 'WITHSCORES'))
  while head do
    heads[#heads + 1] = head
    local next_band = (math.floor(tonumber(score) / RANK_BASE) + 1) * RANK_BASE
    head, score = unpack(redis.call('ZRANGEBYSCORE', q, fmt(next_band), '+inf', 'WITHSCORES', 'LIMIT', 0, 1))
  end
  return heads
end

-- due_put: records when partitions next need maintenance, keeping the earliest time known.
-- Used after a pass (which also clears the busy mark), and on Redis Cluster after transitions
-- that create a deadline (claim, schedule, retry); on a single Redis those scripts write it.
-- Global script.
-- KEYS[1]  due zset
-- KEYS[2]  busy zset
-- ARGV     DUE_PUT_ARGS, then pairs: partition name, time ms ('' = nothing due)
-- Returns  {'ok'}
-- Errors   none.
local taken = ARGV[DUE_PUT_ARGS.taken] == '1'
for i = DUE_PUT_ARGS._last + 1, #ARGV, 2 do
  local m, at = ARGV[i], ARGV[i + 1]
  if taken then
    redis.call('ZREM', KEYS[2], m)
  end
  if at ~= '' then
    local cur = redis.call('ZSCORE', KEYS[1], m)
    if not cur or tonumber(at) < tonumber(cur) then
      redis.call('ZADD', KEYS[1], at, m)
    end
  end
end
return { 'ok' }

-- wake_put: records when partitions next need maintenance, keeping the earliest time known.
-- Used after a pass (which also clears the busy mark) and as a hint after transitions that
-- create a deadline (claim, schedule, retry).
-- Global script.
-- KEYS[1]  wake zset
-- KEYS[2]  busy zset
-- ARGV[1]  '1': these partitions were taken by wake_take, clear their busy mark
-- ARGV[2..] pairs: partition name, time ms ('': nothing due)
-- Returns {'ok'}
-- Errors: none.
local taken = ARGV[1] == '1'
for i = 2, #ARGV, 2 do
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

-- wake_take: a maintenance pass takes the partitions that are due (and passes abandoned by a
-- crashed server), marking them busy so concurrent servers skip them until the pass ends.
-- Global script: the wake index is one slot, separate from every partition.
-- KEYS[1]  wake zset: partition name -> next time it needs maintenance (ms)
-- KEYS[2]  busy zset: partition name -> when the pass holding it is considered dead (ms)
-- ARGV[1]  at most this many partitions
-- ARGV[2]  busy ms
-- ARGV[3]  clock: '' on Redis (TIME decides); the in-memory store passes the process clock
-- Returns {now, next wake ms or '', then pairs: partition name, the time it was due (ms)}
-- Errors: none.
local function ret(t)
  local r = {}
  for i = #t, 1, -1 do
    r[i] = t[i]
  end
  return r
end
local limit, busy_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
local now
if ARGV[3] ~= '' then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000.0 + math.floor(tonumber(t[2]) / 1000)
end
local nows = string.format('%.0f', now)
local until_s = string.format('%.0f', now + busy_ms)
local out = { nows, '' }
local function take(key)
  local due = redis.call('ZRANGEBYSCORE', key, '-inf', nows, 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #due, 2 do
    redis.call('ZREM', KEYS[1], due[i])
    redis.call('ZADD', KEYS[2], until_s, due[i])
    out[#out + 1] = due[i]
    out[#out + 1] = due[i + 1]
  end
end
take(KEYS[2])
take(KEYS[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then
  out[2] = first[2]
end
return ret(out)

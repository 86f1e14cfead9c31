-- due_take: a maintenance pass takes the partitions that are due (and passes abandoned by a
-- crashed server), marking them busy so concurrent servers skip them until the pass ends.
-- Global script: the due index is one slot, separate from every partition.
-- KEYS[1]  due zset: partition name -> when it next needs maintenance (ms)
-- KEYS[2]  busy zset: partition name -> when the pass holding it is considered dead (ms)
-- ARGV     DUE_TAKE_ARGS
-- Returns  DUE_TAKE_REPLY, then pairs: partition name, when it was due (ms)
-- Errors   none.
local unpack = unpack or table.unpack
local function ret(t)
  local r = {}
  for i = #t, 1, -1 do
    r[i] = t[i]
  end
  return r
end
local limit, busy_ms = tonumber(ARGV[DUE_TAKE_ARGS.limit]), tonumber(ARGV[DUE_TAKE_ARGS.busy_ms])
local now
if ARGV[DUE_TAKE_ARGS.clock] ~= '' then
  now = tonumber(ARGV[DUE_TAKE_ARGS.clock])
else
  local sec, usec = unpack(redis.call('TIME'))
  now = tonumber(sec) * 1000.0 + math.floor(tonumber(usec) / 1000)
end
local nows = string.format('%.0f', now)
local until_s = string.format('%.0f', now + busy_ms)
local out = {}
out[DUE_TAKE_REPLY.now] = nows
out[DUE_TAKE_REPLY.next_due] = ''
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
local _, first = unpack(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES'))
if first then
  out[DUE_TAKE_REPLY.next_due] = first
end
return ret(out)

-- Shared helpers, prepended to every partition script by scripts.ts after the ARGV header, the key
-- builders (keys.ts) and the layouts (layouts/): each script gets the top-level statements it
-- names, directly or through them (so define things as top-level `local`s, one statement each). Scripts run unchanged on Redis (Lua 5.1, doubles)
-- and on ioredis-mock (fengari: Lua 5.3 with 32-bit integers), hence:
--   * numbers go to redis.call as fmt() strings: exact for ms timestamps and 2^53-range scores;
--   * no cjson/cmsgpack/redis.error_reply: scripts return flat arrays whose first item is a code;
--   * a returned table must pass through ret() (ioredis-mock reads only tables built last to first).

local unpack = unpack or table.unpack
local SEP, RS, HS = '\031', '\030', '\029'
local RANK_BASE = 2 ^ 40 -- queue score = priority rank * 2^40 + sequence (a float on every Lua)

local function ret(t)
  local r = {}
  for i = #t, 1, -1 do
    r[i] = t[i]
  end
  return r
end

-- A batch reply: the `head` layout's items, then every item after them joined by SEP into one
-- string (the engine splits it). A reply of a hundred claimed executions is then 5 items, not
-- 1,200: each item of a reply costs Redis and the client's parser more than its bytes do, and the
-- items come from records, which never hold a SEP.
local function packed(out, head)
  local r = {}
  for i = 1, head._n do
    r[i] = out[i]
  end
  r[head._n + 1] = table.concat(out, SEP, head._n + 1, #out)
  return ret(r)
end

-- An integral number as redis.call takes it. Redis's Lua turns numbers into strings with %.14g,
-- which loses digits of ms timestamps and queue scores; %d converts through a C long (fast and
-- exact below 2^53), but fengari (the in-memory store) has 32-bit integers, so it gets %.0f
-- (exact, through libc's slower path). FMT is '%d' or '%.0f' (scripts.ts). A batch formats the
-- same few numbers (its `now`, a lease's expiry and length, attempt 1) again for every item, so
-- each result is kept for the script: a table lookup costs a tenth of a string.format.
local FMT_MEMO = {}
local function fmt(n)
  local s = FMT_MEMO[n]
  if not s then
    s = string.format(FMT, n)
    -- NaN cannot be a table key.
    if n == n then
      FMT_MEMO[n] = s
    end
  end
  return s
end

-- The store's clock. CLOCK (ARGV[5]) is '' on Redis: TIME decides. Only the in-memory store,
-- which lives in the calling process, passes that process's clock (its TIME is not a clock).
local function now_ms()
  if CLOCK ~= '' then
    return tonumber(CLOCK)
  end
  local sec, usec = unpack(redis.call('TIME'))
  return tonumber(sec) * 1000.0 + math.floor(tonumber(usec) / 1000)
end

-- HMGET with missing fields as false on both backends (ioredis-mock yields userdata for them).
local function hmget(key, ...)
  local f = redis.call('HMGET', key, ...)
  local out = {}
  for i = 1, select('#', ...) do
    local v = f[i]
    if type(v) ~= 'string' then
      v = false
    end
    out[i] = v
  end
  return out
end

-- Appends the hash at `key` to `out` as one `item`: a layout made of the hash's field names
-- (`names`, a hash-field table; layouts/replies.ts), '' for a field the hash lacks. The per-minute
-- and per-day readers (rates, usage, cue_stats) answer with it.
local function append_hash(out, key, item, names)
  local fields = {}
  for name, at in pairs(item) do
    if names[name] then
      fields[at] = names[name]
    end
  end
  local values = hmget(key, unpack(fields, 1, item._n))
  local b = #out
  for i = 1, item._n do
    out[b + i] = values[i] or ''
  end
end

-- The lowest score of a sorted set as stored, or nil when it is empty: when the next entry of a
-- maintenance index (leases, scheduled, done, deadlines) is due.
local function first_score(key)
  local _, score = unpack(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES'))
  return score
end

-- A number from a stored string; '' and nil read as `default`.
local function num(v, default)
  if v and v ~= '' then
    return tonumber(v)
  end
  return default
end

-- Free text as a record may hold it: no separators, at most n bytes.
local function clip(s, n)
  if not s then
    return ''
  end
  s = string.gsub(s, '[\029\030\031]', ' ')
  if #s > n then
    return string.sub(s, 1, n)
  end
  return s
end

local function push(list, ...)
  for i = 1, select('#', ...) do
    list[#list + 1] = select(i, ...)
  end
end

-- Base 36 for ms timestamps (see EXECUTION.created_at), with doubles: exact below 2^53 on every Lua.
local B36 = '0123456789abcdefghijklmnopqrstuvwxyz'
local function b36(n)
  local s = ''
  repeat
    local d = n % 36
    s = string.sub(B36, d + 1, d + 1) .. s
    n = (n - d) / 36
  until n == 0
  return s
end

-- n starts as a float: fengari's integers are 32-bit and a ms timestamp would wrap.
local function from_b36(s)
  local n = 0.0
  for i = 1, #s do
    n = n * 36 + string.find(B36, string.sub(s, i, i), 1, true) - 1
  end
  return n
end

-- Splits s at every occurrence of the one-character plain separator sep, from index 1.
local function split(s, sep)
  local t, i, from = {}, 1, 1
  while true do
    local at = string.find(s, sep, from, true)
    if not at then
      t[i] = string.sub(s, from)
      return t
    end
    t[i] = string.sub(s, from, at - 1)
    i = i + 1
    from = at + 1
  end
end

-- execution records (layout: EXECUTION in layouts/records.ts) -------------------------------------------

local STATUS_NAME = {} -- the stored letter (STATUS_CODES) -> the status
for name, code in pairs(SC) do
  STATUS_NAME[code] = name
end

-- A new record: every field '' (so table.concat sees no holes).
local function rec_new()
  local r = { payload = '', history = '' }
  for i = 1, X._n do
    r[i] = ''
  end
  return r
end

-- Decodes a stored record value into a record table.
local function rec_decode(v)
  local a = string.find(v, RS, 1, true)
  local b = string.find(v, RS, a + 1, true)
  local r = split(string.sub(v, a + 1, b - 1), SEP)
  r[X.status] = STATUS_NAME[r[X.status]] or r[X.status]
  for i = #r + 1, X._n do
    r[i] = ''
  end
  r.payload = string.sub(v, 1, a - 1)
  r.history = string.sub(v, b + 1)
  return r
end

-- The execution's record, or nil: fields by X position ('' when empty), `payload` (inline JSON,
-- '' when external) and `history` (the raw history).
local function rec_read(id)
  local v = redis.call('HGET', K_E, id)
  if not v then
    return nil
  end
  return rec_decode(v)
end

local function rec_write(id, r)
  local n = X._n
  while n > 1 and r[n] == '' do
    n = n - 1
  end
  local status = r[X.status]
  r[X.status] = SC[status]
  redis.call('HSET', K_E, id, r.payload .. RS .. table.concat(r, SEP, 1, n) .. RS .. r.history)
  r[X.status] = status
end

-- When it was created (ms); and when it is (or was) due: its scheduled_for, else its creation.
local function created_ms(r)
  return from_b36(r[X.created_at])
end

local function scheduled_for(r)
  if r[X.scheduled_for] ~= '' then
    return r[X.scheduled_for]
  end
  return fmt(created_ms(r))
end

local function payload_of(id, r)
  if r[X.payload_external] == '1' then
    return redis.call('HGET', K_PL, id) or 'null'
  end
  if r.payload == '' then
    return 'null'
  end
  return r.payload
end

local function set_payload(id, r, payload)
  if #payload <= INLINE_MAX then
    r.payload = payload
  else
    r.payload = ''
    r[X.payload_external] = '1'
    redis.call('HSET', K_PL, id, payload)
  end
end

-- Appends an attempt (ATTEMPT layout) to the bounded history.
local function history_add(r, how, err, now, rw)
  local e = {}
  e[A.attempt] = r[X.attempt]
  e[A.worker_id] = r[X.worker_id]
  e[A.claimed_at] = r[X.claimed_at]
  e[A.ended_at] = fmt(now)
  e[A.ended] = how
  e[A.error] = clip(err, 500)
  e[A.reported_with] = rw or ''
  local entry = table.concat(e, SEP, 1, A._n)
  local h = r.history
  if h == '' then
    r.history = entry
    return
  end
  local _, count = string.gsub(h, HS, HS)
  if count + 1 >= HISTORY_MAX then
    h = string.sub(h, string.find(h, HS, 1, true) + 1)
  end
  r.history = h .. HS .. entry
end

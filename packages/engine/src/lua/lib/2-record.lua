-- execution records (layout: EXECUTION in layouts/records.ts) -------------------------------------------

local STATUS_NAME = {} -- the stored letter (STATUS_CODES) -> the status
for name, code in pairs(SC) do
  STATUS_NAME[code] = name
end

-- A new record: every field '' (so table.concat sees no holes), payload and history too.
local rec_new = rec_blank

-- Decodes a stored value into a record table: fields by X position, then REC_PAYLOAD (inline JSON,
-- '' when external) and REC_HISTORY (the raw history).
local function rec_decode(v)
  local r = rec_blank()
  -- gmatch splits in C: half the cost of a find/sub loop, and records are decoded on every
  -- transition. One pass over the value itself (no copy of the fields part): the payload (inline
  -- JSON never holds a raw control character) up to the first RS, then the fields up to the
  -- second; the history after it is taken whole.
  local n = -1
  local at = 0
  for field, sep, pos in string.gmatch(v, '([^\031\030]*)([\031\030])()') do
    if n < 0 then
      r[REC_PAYLOAD] = field
      n = 0
    else
      n = n + 1
      r[n] = field
      if sep == RS then
        at = pos
        break
      end
    end
  end
  r[X.status] = STATUS_NAME[r[X.status]] or r[X.status]
  r[REC_HISTORY] = string.sub(v, at)
  return r
end

-- Batches read their records with one HMGET (rec_prefetch) and write them with one HSET at commit
-- (rec_stage): one redis.call per record costs about as much as decoding it.
local FETCHED = {} -- id -> stored value, or false when there is none
local STAGED = {}  -- id -> record to write at commit
local STAGED_ORDER = {}

local function rec_prefetch(ids)
  if #ids == 0 then
    return
  end
  local values = redis.call('HMGET', K_E, unpack(ids))
  for i, id in ipairs(ids) do
    local v = values[i]
    FETCHED[id] = type(v) == 'string' and v or false
  end
end

local function rec_read(id)
  local staged = STAGED[id]
  if staged then
    return staged
  end
  local v = FETCHED[id]
  if v == nil then
    v = redis.call('HGET', K_E, id)
  end
  if not v then
    return nil
  end
  return rec_decode(v)
end

local function rec_encode(r)
  local n = X._n
  while n > 1 and r[n] == '' do
    n = n - 1
  end
  local status = r[X.status]
  r[X.status] = SC[status]
  local v = r[REC_PAYLOAD] .. RS .. table.concat(r, SEP, 1, n) .. RS .. r[REC_HISTORY]
  r[X.status] = status
  return v
end

local function rec_write(id, r)
  STAGED[id] = nil
  redis.call('HSET', K_E, id, rec_encode(r))
end

-- Writes the record at commit (later reads in this script see it as staged).
local function rec_stage(id, r)
  if not STAGED[id] then
    STAGED_ORDER[#STAGED_ORDER + 1] = id
  end
  STAGED[id] = r
end

local function rec_flush()
  local pairs_out = {}
  for _, id in ipairs(STAGED_ORDER) do
    local r = STAGED[id]
    if r then
      pairs_out[#pairs_out + 1] = id
      pairs_out[#pairs_out + 1] = rec_encode(r)
    end
  end
  if #pairs_out > 0 then
    redis.call('HSET', K_E, unpack(pairs_out))
  end
  STAGED, STAGED_ORDER = {}, {}
end

-- When it was created (ms).
local function created_ms(r)
  return from_b36(r[X.created_at])
end

local function payload_of(id, r)
  if r[X.payload_external] == '1' then
    return redis.call('HGET', K_PL, id) or 'null'
  end
  if r[REC_PAYLOAD] == '' then
    return 'null'
  end
  return r[REC_PAYLOAD]
end

local function set_payload(id, r, payload)
  if #payload <= INLINE_MAX then
    r[REC_PAYLOAD] = payload
  else
    r[REC_PAYLOAD] = ''
    r[X.payload_external] = '1'
    redis.call('HSET', K_PL, id, payload)
  end
end

-- Appends an attempt (ATTEMPT layout) to the bounded history.
local HISTORY_ENTRY = {} -- reused: one attempt's fields, joined at once
local function history_add(r, how, err, now, rw)
  local e = HISTORY_ENTRY
  e[A.attempt] = r[X.attempt]
  e[A.worker_id] = r[X.worker_id]
  e[A.claimed_at] = r[X.claimed_at]
  e[A.ended_at] = fmt(now)
  e[A.ended] = how
  e[A.error] = clip(err, 500)
  e[A.reported_with] = rw or ''
  local entry = table.concat(e, SEP, 1, A._n)
  local h = r[REC_HISTORY]
  if h == '' then
    r[REC_HISTORY] = entry
    return
  end
  local _, count = string.gsub(h, HS, HS)
  if count + 1 >= HISTORY_MAX then
    h = string.sub(h, string.find(h, HS, 1, true) + 1)
  end
  r[REC_HISTORY] = h .. HS .. entry
end

-- enqueue: creates executions (one or a bulk batch), pending now or scheduled for later.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  n: number of items
-- ARGV[7]  inline payload limit in bytes
-- ARGV[8]  idempotency key TTL in seconds
-- ARGV[9..] n items of 14 fields: id, task, payload JSON, priority, max attempts, backoff csv
--          ('' = server default), lease seconds (''), at ms (''), delay ms (''), idempotency key
--          (''), cue id (''), cue name, replayed from (''), request fingerprint ('' without a key)
-- Returns {'ok', now, next_due or '', then per item: id, created ('1') or deduplicated ('0'), status}
-- Errors: {'idempotency_key_reused', key}: a key already names a request with another
--         fingerprint (also an earlier item of this batch); nothing of the batch is created.
--         An idempotency key stores `<execution id> SEP <fingerprint>`.
local n, inline_max, idem_ttl = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local W = 14

-- The execution a key already names, if it still exists, and that request's fingerprint.
local function known(ik)
  local v = redis.call('GET', k_idem(ik))
  if not v then
    return nil
  end
  local id, fp = string.match(v, '^([^\031]*)\031?(.*)$')
  if redis.call('EXISTS', k_exec(id)) == 0 then
    return nil
  end
  return id, fp
end

-- Every key is checked before anything is created, so a refused batch leaves no trace.
local seen = {}
for i = 0, n - 1 do
  local b = 9 + i * W
  local ik, fp = ARGV[b + 9], ARGV[b + 13]
  if ik ~= '' then
    local prior = seen[ik]
    if prior == nil then
      local _, stored = known(ik)
      prior = stored
    end
    -- An empty stored fingerprint predates fingerprints: it matches any request.
    if prior and prior ~= '' and prior ~= fp then
      return { 'idempotency_key_reused', ik }
    end
    seen[ik] = prior or fp
  end
end

local now = now_ms()
local out = { 'ok', fmt(now), '' }
for i = 0, n - 1 do
  local b = 9 + i * W
  local id, ik = ARGV[b], ARGV[b + 9]
  local existing = nil
  if ik ~= '' then
    existing = known(ik)
  end
  if existing then
    push(out, existing, '0', redis.call('HGET', k_exec(existing), 's'))
  else
    if ik ~= '' then
      redis.call('SET', k_idem(ik), id .. SEP .. ARGV[b + 13], 'EX', idem_ttl)
    end
    local status = create_execution(id, ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5],
      ARGV[b + 6], ARGV[b + 7], ARGV[b + 8], ik, ARGV[b + 10], ARGV[b + 11], ARGV[b + 12], inline_max, now)
    push(out, id, '1', status)
  end
end
out[3] = due_str()
commit()
return ret(out)

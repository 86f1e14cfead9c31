-- enqueue: creates executions (one or a bulk batch), pending now or scheduled for later.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, ENQUEUE_ARGS, then `count` ENQUEUE_ITEMs
-- Returns  ENQUEUE_REPLY, then per item an ENQUEUED (created '1', or '0' for a known key), packed (packed())
-- Errors   ERROR_REPLY idempotency_key_reused (detail: the key): a key already names a request
--          with another fingerprint (also an earlier item of this batch); nothing is created.
--          An idempotency key's value is `<execution id> SEP <fingerprint>`.
local n = tonumber(ARGV[ENQUEUE_ARGS.count])
local first = ENQUEUE_ARGS._last

-- The execution a key already names, if it still exists, and that request's fingerprint.
local function known(ik)
  local v = redis.call('GET', k_idem(ik))
  if not v then
    return nil
  end
  local id, fp = string.match(v, '^([^\031]*)\031?(.*)$')
  if redis.call('HEXISTS', K_E, id) == 0 then
    return nil
  end
  return id, fp
end

-- Every key is checked before anything is created, so a refused batch leaves no trace.
local seen = {}
for i = 0, n - 1 do
  local b = first + i * ENQUEUE_ITEM._n
  local ik, fp = ARGV[b + ENQUEUE_ITEM.idempotency_key], ARGV[b + ENQUEUE_ITEM.fingerprint]
  if ik ~= '' then
    local prior = seen[ik]
    if prior == nil then
      local _, stored = known(ik)
      prior = stored
    end
    -- An empty stored fingerprint (a cue fire's key) matches any request.
    if prior and prior ~= '' and prior ~= fp then
      local err = {}
      err[ERROR_REPLY.code] = 'idempotency_key_reused'
      err[ERROR_REPLY.detail] = ik
      return ret(err)
    end
    seen[ik] = prior or fp
  end
end

local now = now_ms()
local out = {}
out[ENQUEUE_REPLY.code] = 'ok'
out[ENQUEUE_REPLY.now] = fmt(now)
out[ENQUEUE_REPLY.next_due] = ''
for i = 0, n - 1 do
  local b = first + i * ENQUEUE_ITEM._n
  local id, ik = ARGV[b + ENQUEUE_ITEM.id], ARGV[b + ENQUEUE_ITEM.idempotency_key]
  local existing = nil
  if ik ~= '' then
    existing = known(ik)
  end
  local o = #out
  if existing then
    out[o + ENQUEUED.id] = existing
    out[o + ENQUEUED.created] = '0'
    out[o + ENQUEUED.status] = rec_read(existing)[X.status]
  else
    if ik ~= '' then
      redis.call('SET', k_idem(ik), id .. SEP .. ARGV[b + ENQUEUE_ITEM.fingerprint], 'EX',
        ARGV[ENQUEUE_ARGS.idempotency_ttl])
    end
    out[o + ENQUEUED.id] = id
    out[o + ENQUEUED.created] = '1'
    out[o + ENQUEUED.status] = create_execution(id, {
      task = ARGV[b + ENQUEUE_ITEM.task],
      payload = ARGV[b + ENQUEUE_ITEM.payload],
      priority = ARGV[b + ENQUEUE_ITEM.priority],
      max_attempts = ARGV[b + ENQUEUE_ITEM.max_attempts],
      backoff = ARGV[b + ENQUEUE_ITEM.backoff],
      lease_seconds = ARGV[b + ENQUEUE_ITEM.lease_seconds],
      at = ARGV[b + ENQUEUE_ITEM.at],
      delay_ms = ARGV[b + ENQUEUE_ITEM.delay_ms],
      idempotency_key = ik,
      cue_id = ARGV[b + ENQUEUE_ITEM.cue_id],
      cue_name = ARGV[b + ENQUEUE_ITEM.cue_name],
      triggered_by = ARGV[b + ENQUEUE_ITEM.triggered_by],
      replayed_from = ARGV[b + ENQUEUE_ITEM.replayed_from],
    }, now)
  end
end
out[ENQUEUE_REPLY.next_due] = due_str()
commit(now)
return packed(out, ENQUEUE_REPLY)

-- enqueue: creates executions (one or a bulk batch), pending now or scheduled for later.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  n: number of items
-- ARGV[7]  inline payload limit in bytes
-- ARGV[8]  idempotency key TTL in seconds
-- ARGV[9..] n items of 13 fields: id, task, payload JSON, priority, max attempts, backoff csv
--          ('' = server default), lease seconds (''), at ms (''), delay ms (''), idempotency key
--          (''), cue id (''), cue name, replayed from ('')
-- Returns {'ok', now, next_due or '', then per item: id, created ('1') or deduplicated ('0'), status}
-- Errors: none (input is validated before it gets here).
local n, inline_max, idem_ttl = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local now = now_ms()
local out = { 'ok', fmt(now), '' }
for i = 0, n - 1 do
  local b = 9 + i * 13
  local id, ik = ARGV[b], ARGV[b + 9]
  local existing = nil
  if ik ~= '' then
    existing = redis.call('GET', k_idem(ik))
    if existing and redis.call('EXISTS', k_exec(existing)) == 0 then
      existing = nil
    end
  end
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = '0'
    out[#out + 1] = redis.call('HGET', k_exec(existing), 's')
  else
    if ik ~= '' then
      redis.call('SET', k_idem(ik), id, 'EX', idem_ttl)
    end
    local status = create_execution(id, ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5],
      ARGV[b + 6], ARGV[b + 7], ARGV[b + 8], ik, ARGV[b + 10], ARGV[b + 11], ARGV[b + 12], inline_max, now)
    out[#out + 1] = id
    out[#out + 1] = '1'
    out[#out + 1] = status
  end
end
out[3] = due_str()
commit()
return ret(out)

-- cue_list: a page of the tenant's cues, newest first, optionally of one status.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  status ('' = any)
-- ARGV[7]  offset
-- ARGV[8]  limit
-- Returns {'ok', now, total matching, n, then n pairs: cue id, {cue hash flat}}
-- Errors: none.
local status, offset, limit = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local out = { 'ok', fmt(now_ms()), 0, 0 }
local ids
local total
if status == '' then
  total = redis.call('ZCARD', K_CUES)
  ids = redis.call('ZREVRANGE', K_CUES, offset, offset + limit - 1)
else
  -- A status filter reads every cue's status: cost proportional to the tenant's cues, read only.
  ids = {}
  total = 0
  for _, id in ipairs(redis.call('ZREVRANGE', K_CUES, 0, -1)) do
    if redis.call('HGET', k_cue(id), 'st') == status then
      total = total + 1
      if total > offset and #ids < limit then
        ids[#ids + 1] = id
      end
    end
  end
end
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', k_cue(id))
end
out[3], out[4] = total, #ids
return ret(out)

-- cue_list: a page of the tenant's cues, newest first, optionally of one status.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CUE_LIST_ARGS (status '' = any)
-- Returns  CUE_LIST_REPLY (total matching), then `count` CUE_ITEMs (cue: the cue hash flat)
-- Errors   none.
local status, offset, limit = ARGV[CUE_LIST_ARGS.status], tonumber(ARGV[CUE_LIST_ARGS.offset]), tonumber(ARGV[CUE_LIST_ARGS.limit])
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
    if redis.call('HGET', k_cue(id), CF.status) == status then
      total = total + 1
      if total > offset and #ids < limit then
        ids[#ids + 1] = id
      end
    end
  end
end
local out = {}
out[CUE_LIST_REPLY.code] = 'ok'
out[CUE_LIST_REPLY.now] = fmt(now_ms())
out[CUE_LIST_REPLY.total] = total
out[CUE_LIST_REPLY.count] = #ids
for _, id in ipairs(ids) do
  local b = #out
  out[b + CUE_ITEM.id] = id
  out[b + CUE_ITEM.cue] = redis.call('HGETALL', k_cue(id))
end
return ret(out)

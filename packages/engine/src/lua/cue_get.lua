-- cue_get: one cue and a page of its most recent executions, newest first.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, CUE_GET_ARGS (limit 0: no executions)
-- Returns  CUE_GET_REPLY (cue: the cue hash flat; total: executions known), then `count` LISTED
--          items (position ''; executions already purged by retention are left out)
-- Errors   cue_not_found.
local id, offset, limit = ARGV[CUE_GET_ARGS.id], tonumber(ARGV[CUE_GET_ARGS.offset]), tonumber(ARGV[CUE_GET_ARGS.limit])
local h = redis.call('HGETALL', k_cue(id))
if #h == 0 then
  return { 'cue_not_found' }
end
local out = {}
out[CUE_GET_REPLY.code] = 'ok'
out[CUE_GET_REPLY.now] = fmt(now_ms())
out[CUE_GET_REPLY.cue] = h
out[CUE_GET_REPLY.total] = redis.call('LLEN', k_cue_recent(id))
out[CUE_GET_REPLY.count] = 0
local n = 0
if limit > 0 then
  for _, eid in ipairs(redis.call('LRANGE', k_cue_recent(id), offset, offset + limit - 1)) do
    local v = redis.call('HGET', K_E, eid)
    if v then
      n = n + 1
      local b = #out
      out[b + LISTED.position] = ''
      out[b + LISTED.id] = eid
      out[b + LISTED.record] = v
      out[b + LISTED.payload] = redis.call('HGET', K_PL, eid) or ''
      out[b + LISTED.outcome] = redis.call('HGET', K_O, eid) or ''
    end
  end
end
out[CUE_GET_REPLY.count] = n
return ret(out)

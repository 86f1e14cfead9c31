-- cue_get: one cue and a page of its most recent executions, newest first.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  cue id
-- ARGV[7]  executions offset
-- ARGV[8]  executions limit (0: none)
-- Returns {'ok', now, {cue hash flat}, executions known, n, then n items of 3: id, {hash flat},
--          payload JSON} (executions already purged by retention are left out)
-- Errors: cue_not_found.
local id, offset, limit = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local h = redis.call('HGETALL', k_cue(id))
if #h == 0 then
  return { 'cue_not_found' }
end
local out = { 'ok', fmt(now_ms()), h, redis.call('LLEN', k_cue_recent(id)), 0 }
local n = 0
if limit > 0 then
  for _, eid in ipairs(redis.call('LRANGE', k_cue_recent(id), offset, offset + limit - 1)) do
    local e = redis.call('HGETALL', k_exec(eid))
    if #e > 0 then
      local inline, external
      for i = 1, #e, 2 do
        if e[i] == 'pl' then
          inline = e[i + 1]
        elseif e[i] == 'px' then
          external = e[i + 1]
        end
      end
      n = n + 1
      out[#out + 1] = eid
      out[#out + 1] = e
      out[#out + 1] = payload_of(eid, inline, external)
    end
  end
end
out[5] = n
return ret(out)

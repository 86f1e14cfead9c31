-- get: reads one execution with its payload, outcome evidence and attempt history.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  execution id
-- Returns {'ok', now, {hash fields flat}, payload JSON, outcome JSON or '', {history entries}}
-- Errors: execution_not_found.
local id = ARGV[6]
local h = redis.call('HGETALL', k_exec(id))
if #h == 0 then
  return { 'execution_not_found' }
end
local inline, external
for i = 1, #h, 2 do
  if h[i] == 'pl' then
    inline = h[i + 1]
  elseif h[i] == 'px' then
    external = h[i + 1]
  end
end
return { 'ok', fmt(now_ms()), h, payload_of(id, inline, external), redis.call('GET', k_outcome(id)) or '',
  redis.call('LRANGE', k_history(id), 0, -1) }

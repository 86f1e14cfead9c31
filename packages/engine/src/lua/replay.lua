-- replay: a terminal execution is run again as a new execution (new id, attempt 0, same task,
-- payload, limits and cue), with `rf` (replayed_from) pointing at the original.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  id of the terminal execution
-- ARGV[7]  id for the new execution (same partition)
-- ARGV[8]  inline payload limit in bytes
-- Returns {'ok', now, new id, status}
-- Errors: execution_not_found; execution_not_terminal.
local src, id, inline_max = ARGV[6], ARGV[7], tonumber(ARGV[8])
local f = hmget(k_exec(src), 's', 't', 'pr', 'm', 'bo', 'ls', 'cue', 'cn', 'pl', 'px')
if not f[1] then
  return { 'execution_not_found' }
end
if f[1] ~= 'success' and f[1] ~= 'failed' and f[1] ~= 'cancelled' then
  return { 'execution_not_terminal' }
end
local now = now_ms()
local status = create_execution(id, f[2], payload_of(src, f[9], f[10]), f[3] or '0', f[4], f[5] or '', f[6] or '', '',
  '', '', f[7] or '', f[8] or '', src, inline_max, now, 'replay')
commit()
return { 'ok', fmt(now), id, status }

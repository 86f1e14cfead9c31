-- list: executions newest first from the creation log, filtered, one page at a time. Positions
-- are absolute (they survive trimming of the log's head), so a cursor stays valid.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV[1..5] partition header (prefix, tenant, notify channel, event channel, clock)
-- ARGV[6]  start position ('': newest)
-- ARGV[7]  page size
-- ARGV[8]  at most this many log entries examined per call
-- ARGV[9]  statuses csv ('': any)
-- ARGV[10]  task ('': any)
-- ARGV[11] cue id ('': any)
-- ARGV[12] worker id, the last one that claimed it ('': any)
-- Returns {'ok', now, next position or '' when the log is exhausted, n,
--          then n items of 4: position, id, {hash fields flat}, payload JSON}
-- Errors: none.
local start, limit, max_scan = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local statuses, task, cue, worker = ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local want = nil
if statuses ~= '' then
  want = {}
  for s in string.gmatch(statuses, '[^,]+') do
    want[s] = true
  end
end
local base = tonumber(redis.call('GET', K_LOGBASE) or '0')
local pos = base + redis.call('LLEN', K_LOG) - 1
if start ~= '' and tonumber(start) < pos then
  pos = tonumber(start)
end
local out = { 'ok', fmt(now_ms()), '', 0 }
local n, scanned = 0, 0
while pos >= base and n < limit and scanned < max_scan do
  local lo = math.max(base, pos - 99)
  local chunk = redis.call('LRANGE', K_LOG, lo - base, pos - base)
  for j = #chunk, 1, -1 do
    local id = chunk[j]
    pos = lo + j - 2
    scanned = scanned + 1
    local f = hmget(k_exec(id), 's', 't', 'cue', 'w')
    if f[1] and (want == nil or want[f[1]]) and (task == '' or f[2] == task) and (cue == '' or f[3] == cue)
      and (worker == '' or f[4] == worker) then
      n = n + 1
      local h = redis.call('HGETALL', k_exec(id))
      local inline, external
      for i = 1, #h, 2 do
        if h[i] == 'pl' then
          inline = h[i + 1]
        elseif h[i] == 'px' then
          external = h[i + 1]
        end
      end
      out[#out + 1] = fmt(pos + 1)
      out[#out + 1] = id
      out[#out + 1] = h
      out[#out + 1] = payload_of(id, inline, external)
    end
    if n >= limit or scanned >= max_scan then
      break
    end
  end
end
if pos >= base then
  out[3] = fmt(pos)
end
out[4] = n
return ret(out)

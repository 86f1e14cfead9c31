-- list: executions newest first from the creation log, filtered, one page at a time. Positions
-- are absolute (they survive trimming of the log's head), so a cursor stays valid.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, LIST_ARGS (statuses csv, task, cue_id, worker_id: '' = any;
--          worker_id: the last worker that claimed it)
-- Returns  LIST_REPLY (next: the position to resume at, '' when the log is exhausted), then
--          `count` LISTED items
-- Errors   none.
local start, limit, max_scan = ARGV[LIST_ARGS.start], tonumber(ARGV[LIST_ARGS.limit]), tonumber(ARGV[LIST_ARGS.max_scan])
local statuses, task, cue, worker = ARGV[LIST_ARGS.statuses], ARGV[LIST_ARGS.task], ARGV[LIST_ARGS.cue_id], ARGV[LIST_ARGS.worker_id]
local want = nil
if statuses ~= '' then
  want = {}
  for _, s in ipairs(split(statuses, ',')) do
    want[s] = true
  end
end
local base = tonumber(redis.call('GET', K_LOGBASE) or '0')
local pos = base + redis.call('LLEN', K_LOG) - 1
if start ~= '' and tonumber(start) < pos then
  pos = tonumber(start)
end
local out = {}
out[LIST_REPLY.code] = 'ok'
out[LIST_REPLY.now] = fmt(now_ms())
out[LIST_REPLY.next] = ''
out[LIST_REPLY.count] = 0
local n, scanned = 0, 0
while pos >= base and n < limit and scanned < max_scan do
  local lo = math.max(base, pos - 99)
  local chunk = redis.call('LRANGE', K_LOG, lo - base, pos - base)
  for j = #chunk, 1, -1 do
    local id = chunk[j]
    pos = lo + j - 2
    scanned = scanned + 1
    local v = redis.call('HGET', K_E, id)
    if v then
      local r = rec_decode(v)
      if (want == nil or want[r[X.status]]) and (task == '' or r[X.task] == task)
        and (cue == '' or r[X.cue_id] == cue) and (worker == '' or r[X.worker_id] == worker) then
        n = n + 1
        local b = #out
        out[b + LISTED.position] = fmt(pos + 1)
        out[b + LISTED.id] = id
        out[b + LISTED.record] = v
        out[b + LISTED.payload] = r[X.payload_external] == '1' and (redis.call('HGET', K_PL, id) or '') or ''
        out[b + LISTED.outcome] = redis.call('HGET', K_O, id) or ''
      end
    end
    if n >= limit or scanned >= max_scan then
      break
    end
  end
end
if pos >= base then
  out[LIST_REPLY.next] = fmt(pos)
end
out[LIST_REPLY.count] = n
return ret(out)

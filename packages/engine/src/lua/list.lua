-- list: executions newest first from the creation log, filtered: skips `skip` matches, returns up
-- to `limit`, and with count_all keeps counting matches after that (a total for offset paging).
-- It also answers the earliest claimed_at among the matches it examined (CueAPI's
-- oldest_claimed_at: over the whole filtered set when count_all scans to the end).
-- Positions are absolute (they survive trimming of the log's head), so a cursor stays valid. One
-- call examines at most max_scan entries; the caller continues from `next`.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, LIST_ARGS
-- Returns  LIST_REPLY, then `count` LISTED items
-- Errors   none.
local start, limit = ARGV[LIST_ARGS.start], tonumber(ARGV[LIST_ARGS.limit])
local skip, count_all, max_scan = tonumber(ARGV[LIST_ARGS.skip]), ARGV[LIST_ARGS.count_all] == '1',
  tonumber(ARGV[LIST_ARGS.max_scan])
-- The filters and the running minimum of claimed_at in one table: a chunk may hold only 200 locals.
local Q = {
  task = ARGV[LIST_ARGS.task],
  cue = ARGV[LIST_ARGS.cue_id],
  worker = ARGV[LIST_ARGS.worker_id],
  outcome_state = ARGV[LIST_ARGS.outcome_state],
  triggered = ARGV[LIST_ARGS.triggered_by],
  has_evidence = ARGV[LIST_ARGS.has_evidence],
  result_type = ARGV[LIST_ARGS.result_type],
  oldest = nil,
}

-- Status names: Cuekit's match the status; CueAPI's are mapped (docs/outcomes.md).
local MAPPED = {
  retry_ready = function(r)
    return r[X.status] == 'pending' and num(r[X.attempt], 0) > 0
  end,
  missed = function(r)
    return (r[X.status] == 'pending' or r[X.status] == 'scheduled') and r[X.outcome_state] == 'unknown'
      and r[X.task] ~= WEBHOOK_TASK
  end,
  pending_outcome = function(r)
    return r[X.task] == WEBHOOK_TASK and r[X.status] == 'success' and r[X.outcome_state] == ''
  end,
  outcome_timeout = function(r)
    return r[X.outcome_state] == 'unknown'
  end,
}
local statuses = nil
if ARGV[LIST_ARGS.statuses] ~= '' then
  statuses = split(ARGV[LIST_ARGS.statuses], ',')
end
local function status_matches(r)
  if statuses == nil then
    return true
  end
  for _, name in ipairs(statuses) do
    local mapped = MAPPED[name]
    if (mapped and mapped(r)) or r[X.status] == name then
      return true
    end
  end
  return false
end
local function matches(r)
  local triggered = Q.triggered
  return status_matches(r) and (Q.task == '' or r[X.task] == Q.task) and (Q.cue == '' or r[X.cue_id] == Q.cue)
    and (Q.worker == '' or r[X.worker_id] == Q.worker)
    and (Q.outcome_state == '' or r[X.outcome_state] == Q.outcome_state)
    and (triggered == '' or r[X.triggered_by] == triggered
      or (triggered == 'api' and r[X.triggered_by] == '' and r[X.replayed_from] == '')
      or (triggered == 'replay' and r[X.triggered_by] == '' and r[X.replayed_from] ~= ''))
    and (Q.has_evidence == '' or (string.find(r[X.evidence], EF.any, 1, true) ~= nil) == (Q.has_evidence == '1'))
    and (Q.result_type == '' or r[X.result_type] == Q.result_type)
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
out[LIST_REPLY.matched] = 0
out[LIST_REPLY.count] = 0
out[LIST_REPLY.oldest_claimed_at] = ''
local n, matched, scanned = 0, 0, 0
local full = false
while pos >= base and scanned < max_scan and not (full and not count_all) do
  local lo = math.max(base, pos - 99)
  local chunk = redis.call('LRANGE', K_LOG, lo - base, pos - base)
  for j = #chunk, 1, -1 do
    local id = chunk[j]
    pos = lo + j - 2
    scanned = scanned + 1
    local v = redis.call('HGET', K_E, id)
    if v then
      local r = rec_decode(v)
      if matches(r) then
        matched = matched + 1
        -- The earliest claimed_at of every match examined (skipped, listed and counted alike).
        local claimed = tonumber(r[X.claimed_at])
        if claimed and (Q.oldest == nil or claimed < Q.oldest) then
          Q.oldest = claimed
        end
        if matched > skip and n < limit then
          n = n + 1
          local b = #out
          out[b + LISTED.position] = fmt(pos + 1)
          out[b + LISTED.id] = id
          out[b + LISTED.record] = v
          out[b + LISTED.payload] = r[X.payload_external] == '1' and (redis.call('HGET', K_PL, id) or '') or ''
          out[b + LISTED.outcome] = redis.call('HGET', K_O, id) or ''
          full = n >= limit
        end
      end
    end
    if scanned >= max_scan or (full and not count_all) then
      break
    end
  end
end
if pos >= base then
  out[LIST_REPLY.next] = fmt(pos)
end
out[LIST_REPLY.matched] = matched
out[LIST_REPLY.count] = n
out[LIST_REPLY.oldest_claimed_at] = Q.oldest and fmt(Q.oldest) or ''
return ret(out)

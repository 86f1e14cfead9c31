-- get: reads one execution: its raw record (decoded in TypeScript, decode.ts), its payload when
-- kept outside the record, and its outcome JSON.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, GET_ARGS
-- Returns  GET_REPLY
-- Errors   execution_not_found.
local id = ARGV[GET_ARGS.id]
local v = redis.call('HGET', K_E, id)
if not v then
  return { 'execution_not_found' }
end
local out = {}
out[GET_REPLY.code] = 'ok'
out[GET_REPLY.now] = fmt(now_ms())
out[GET_REPLY.record] = v
out[GET_REPLY.payload] = redis.call('HGET', K_PL, id) or ''
out[GET_REPLY.outcome] = redis.call('HGET', K_O, id) or ''
return ret(out)

-- live_claim: a session attests that it is running an execution live (CueAPI's
-- POST /v1/executions/{id}/live-claim). The first session token wins; the same token again is
-- answered as the first time (with the first time), another token is refused. Nothing else of
-- the execution changes: no status, no lease, no outcome (CueAPI does not check it at outcome time).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, LIVE_CLAIM_ARGS
-- Returns  LIVE_CLAIM_REPLY
-- Errors   execution_not_found (unknown, or internal work); already_attested.
local id = ARGV[LIVE_CLAIM_ARGS.id]
local r = rec_read(id)
if not r or is_internal(r[X.task]) and r[X.task] ~= WEBHOOK_TASK then
  return { 'execution_not_found' }
end
local now = now_ms()
local token = ARGV[LIVE_CLAIM_ARGS.token]
if r[X.live_token] == '' then
  r[X.live_token] = token
  r[X.live_claimed_at] = fmt(now)
  rec_write(id, r)
elseif r[X.live_token] ~= token then
  return { 'already_attested' }
end
local out = {}
out[LIVE_CLAIM_REPLY.code] = 'ok'
out[LIVE_CLAIM_REPLY.now] = fmt(now)
out[LIVE_CLAIM_REPLY.live_claimed_at] = r[X.live_claimed_at]
return ret(out)

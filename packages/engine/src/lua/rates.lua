-- rates: a partition's activity per minute (the dashboard's claims/s and completions/s), so a page
-- opened during an incident shows what happened before it was opened.
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, RATES_ARGS
-- Returns  RATES_REPLY, then `count` RATE_ITEMs, oldest minute first ('' for none)
-- Errors   none.
local first, n = tonumber(ARGV[RATES_ARGS.first_minute]), tonumber(ARGV[RATES_ARGS.count])
local out = {}
out[RATES_REPLY.code] = 'ok'
out[RATES_REPLY.now] = fmt(now_ms())
for m = first, first + n - 1 do
  local enqueues, claims, completions, failures, reclaims = unpack(hmget(k_rates(m), RF.enqueues, RF.claims,
    RF.completions, RF.failures, RF.reclaims))
  local b = #out
  out[b + RATE_ITEM.enqueues] = enqueues or ''
  out[b + RATE_ITEM.claims] = claims or ''
  out[b + RATE_ITEM.completions] = completions or ''
  out[b + RATE_ITEM.failures] = failures or ''
  out[b + RATE_ITEM.reclaims] = reclaims or ''
end
return ret(out)

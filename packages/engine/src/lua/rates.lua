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
  append_hash(out, k_rates(m), RATE_ITEM, RF)
end
return ret(out)

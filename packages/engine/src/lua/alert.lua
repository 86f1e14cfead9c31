-- alert: one alert (the dispatcher builds its webhook body from it).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, ALERT_ARGS
-- Returns  ALERT_REPLY
-- Errors   alert_not_found.
local v = redis.call('HGET', K_ALERTS, ARGV[ALERT_ARGS.id])
if not v then
  return { 'alert_not_found' }
end
local out = {}
out[ALERT_REPLY.code] = 'ok'
out[ALERT_REPLY.now] = fmt(now_ms())
out[ALERT_REPLY.alert] = v
return ret(out)

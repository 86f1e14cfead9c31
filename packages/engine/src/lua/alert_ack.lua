-- alert_ack: acknowledges an alert; acknowledging again keeps the first time (idempotent).
-- KEYS[1]  any key of the partition (cluster routing)
-- ARGV     partition header, ALERT_ARGS
-- Returns  ALERT_REPLY (the alert as now stored)
-- Errors   alert_not_found.
local id = ARGV[ALERT_ARGS.id]
local v = redis.call('HGET', K_ALERTS, id)
if not v then
  return { 'alert_not_found' }
end
local now = now_ms()
local a = split(v, SEP)
if (a[ALERT.acknowledged_at] or '') == '' then
  a[ALERT.acknowledged_at] = fmt(now)
  for i = 1, ALERT._n do
    a[i] = a[i] or ''
  end
  v = table.concat(a, SEP, 1, ALERT._n)
  redis.call('HSET', K_ALERTS, id, v)
end
local out = {}
out[ALERT_REPLY.code] = 'ok'
out[ALERT_REPLY.now] = fmt(now)
out[ALERT_REPLY.alert] = v
return ret(out)

-- key_rotate: replaces a tenant's API key, only while the presented key is still the tenant's
-- key (a compare-and-swap), so concurrent regenerations leave exactly one key.
-- Global script (tenant records live in the global slot); run by tenants.ts.
-- KEYS[1]  the tenant's hash
-- KEYS[2]  the presented key's lookup entry
-- KEYS[3]  the new key's lookup entry
-- ARGV     KEY_ROTATE_ARGS
-- Returns  1 when rotated, 0 when the presented key is not the tenant's key (any more)
-- Errors   none.
if redis.call('HGET', KEYS[1], TF.key_hash) ~= ARGV[KEY_ROTATE_ARGS.presented_hash] then
  return 0
end
redis.call('SET', KEYS[3], ARGV[KEY_ROTATE_ARGS.tenant_id])
redis.call('HSET', KEYS[1], TF.key_hash, ARGV[KEY_ROTATE_ARGS.new_hash])
redis.call('DEL', KEYS[2])
return 1

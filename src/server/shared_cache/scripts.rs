//! The Lua scripts the shared cache runs, each one atomic on the server: what needs several keys at once, or a
//! check and a write with nothing between them, or a read under a size bound.

/// The pointer to the shared period, `{prefix}period` = `<version>.<fetched ms>`, with its time to live and
/// what the caller needs to read of its value (`{prefix}period:<version>`): its size, or -1 when there is
/// nothing to read (the caller has that very pointer, `ARGV[1]`, or it says the period is not shared,
/// `ARGV[2]`), or -2 when the value is not a string. Keys that are not strings (foreign values) read as such
/// rather than failing the script; the value's size is 0 when it is gone. The value itself is
/// read apart (`READ_BOUNDED`, with a timeout for its size), so this script never copies it.
pub const READ_POINTER: &str = r"
local pointer = redis.pcall('GET', KEYS[1])
if not pointer then return {} end
if type(pointer) ~= 'string' then return {'', 1, -2} end
local ttl = redis.call('PTTL', KEYS[1])
if pointer == ARGV[1] or pointer == ARGV[2] then return {pointer, ttl, -1} end
local size = redis.pcall('STRLEN', KEYS[1] .. ':' .. string.sub(pointer, 1, 13))
if type(size) ~= 'number' then return {pointer, ttl, -2} end
return {pointer, ttl, size}
";

/// Each of `KEYS` as a string of at most `ARGV[1]` bytes; else its size (over the limit, or 0 when there is
/// none), or -2 when it is not a string. One script: a value is never read past the limit (a 512 MB value would
/// hold the connection, and every call queued behind it), and cannot change between its size and its read.
pub const READ_BOUNDED: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local size = redis.pcall('STRLEN', key)
  if type(size) ~= 'number' then out[i] = -2
  elseif size == 0 or size > tonumber(ARGV[1]) then out[i] = size
  else out[i] = redis.call('GET', key) end
end
return out
";

/// Shares a period only while the lease `ARGV[1]` is still ours: a computation that lost its lease (it ran
/// out, or was given back at shutdown) never overwrites what the new holder wrote. The versions kept for
/// paging walks are listed, newest first, in `KEYS[4]`: past the `ARGV[6]` newest, the oldest is deleted (only
/// keys under `ARGV[7]`, this deployment's versions), so Redis holds at most that many periods whatever the
/// kept period's TTL.
pub const WRITE_PERIOD: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[5])
if redis.call('TYPE', KEYS[4]).ok ~= 'list' then redis.call('DEL', KEYS[4]) end
redis.call('LREM', KEYS[4], 0, KEYS[2])
redis.call('LPUSH', KEYS[4], KEYS[2])
while redis.call('LLEN', KEYS[4]) > tonumber(ARGV[6]) do
  local oldest = redis.call('RPOP', KEYS[4])
  if string.sub(oldest, 1, string.len(ARGV[7])) == ARGV[7] then redis.call('DEL', oldest) end
end
redis.call('PEXPIRE', KEYS[4], ARGV[4])
return 1
";

/// Says, only while the lease `ARGV[1]` is still ours, that the period is not shared (`ARGV[2]`, for
/// `ARGV[3]` ms): every replica computes its own meanwhile, without waiting for a lease.
pub const WRITE_NOT_SHARED: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
";

/// Takes the lease `ARGV[1]` for `ARGV[2]` ms: 1 when it was free, 0 when another replica holds it, 2 or 3
/// when the key held something that is no lease of ours (without an expiry, or not a string), which would
/// otherwise hold every replica up for ever: it is taken over.
pub const TAKE_LEASE: &str = r"
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 3
end
if ttl == -1 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
";

/// Deletes the lease only while it is still ours.
pub const RELEASE_LEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

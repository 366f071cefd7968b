// Lua twins of src/state/records.ts: each script is one atomic
// read-modify-write of one record. ARGV[1] is a seed: the local copy of the
// record, used when Redis does not have it (first touch, or Redis restarted
// empty), so a restart does not make every identity look brand new.
// Records are written with %.17g (cjson keeps only 14 digits), so doubles
// survive the round trip exactly and Redis agrees with memory to the bit.

const ENCODE = `
local function encode(rec)
  local parts = {}
  for i = 1, #rec do parts[i] = string.format('%.17g', rec[i]) end
  return '[' .. table.concat(parts, ',') .. ']'
end
`;

export const SERIES_LUA = ENCODE + `
local raw = redis.call('GET', KEYS[1])
local rec
if raw then rec = cjson.decode(raw) elseif ARGV[1] ~= '' then rec = cjson.decode(ARGV[1]) end
local now = tonumber(ARGV[2])
local bucketMs = tonumber(ARGV[3])
local alpha = tonumber(ARGV[4])
local pd = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local nv = #ARGV - 6
local b = math.floor(now / bucketMs)
if not rec then
  rec = {now, b, 0}
  for i = 1, 5 * nv do rec[3 + i] = 0 end
end
local gap = b - rec[2]
if gap > 0 then
  local d = 1 - alpha
  rec[3] = rec[3] * d + 1
  for i = 0, nv - 1 do
    local o = 4 + 5 * i
    local c = rec[o]
    rec[o + 2] = rec[o + 2] * d + c
    rec[o + 3] = rec[o + 3] * d + c * c
    local p = rec[o + 4] * pd
    if rec[o + 1] > p then p = rec[o + 1] end
    rec[o + 4] = p
  end
  if gap > 1 then
    local z = gap - 1
    local f = d ^ z
    local pf = pd ^ (z - 1)
    rec[3] = rec[3] * f + (1 - f) / alpha
    for i = 0, nv - 1 do
      local o = 4 + 5 * i
      rec[o + 1] = 0
      rec[o + 2] = rec[o + 2] * f
      rec[o + 3] = rec[o + 3] * f
      local q = rec[o + 4] * pd
      if rec[o] > q then q = rec[o] end
      rec[o + 4] = q * pf
    end
  else
    for i = 0, nv - 1 do rec[5 + 5 * i] = rec[4 + 5 * i] end
  end
  for i = 0, nv - 1 do rec[4 + 5 * i] = 0 end
  rec[2] = b
end
for i = 0, nv - 1 do
  local o = 4 + 5 * i
  rec[o] = rec[o] + tonumber(ARGV[7 + i])
end
local out = encode(rec)
redis.call('SET', KEYS[1], out, 'PX', ttl)
return out
`;

/** Returns the record as it was before this sample. */
export const SAMPLE_LUA = ENCODE + `
local raw = redis.call('GET', KEYS[1])
if not raw then
  if ARGV[1] ~= '' then raw = ARGV[1] else raw = '[0,0,0]' end
end
local rec = cjson.decode(raw)
local x = tonumber(ARGV[2])
local amin = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local a = 1 / (rec[1] + 1)
if amin > a then a = amin end
local diff = x - rec[2]
local incr = a * diff
rec[2] = rec[2] + incr
rec[3] = (1 - a) * (rec[3] + diff * incr)
rec[1] = rec[1] + 1
redis.call('SET', KEYS[1], encode(rec), 'PX', ttl)
return raw
`;

export const PROFILE_LUA = ENCODE + `
local raw = redis.call('GET', KEYS[1])
local rec
if raw then rec = cjson.decode(raw) elseif ARGV[1] ~= '' then rec = cjson.decode(ARGV[1]) end
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local h = math.floor(now / 3600000)
if not rec then
  rec = {now, h, 0}
  for i = 1, 14 do rec[3 + i] = 0 end
end
if h > rec[2] then
  if rec[3] > 0 then
    local day = math.floor(rec[2] / 24)
    local slot = ((day + 3) % 7) * 24 + (rec[2] % 24)
    local w = 4 + math.floor(slot / 12)
    local p = 16 ^ (slot % 12)
    rec[w] = rec[w] + p
    if math.floor(rec[w] / p) % 16 >= 15 then
      for i = 4, #rec do
        local halved = 0
        for j = 0, 11 do
          local q = 16 ^ j
          halved = halved + math.floor((math.floor(rec[i] / q) % 16) / 2) * q
        end
        rec[i] = halved
      end
    end
  end
  rec[2] = h
  rec[3] = 0
end
rec[3] = rec[3] + 1
local out = encode(rec)
redis.call('SET', KEYS[1], out, 'PX', ttl)
return out
`;

/**
 * KEYS[1] sorted set member→last seen, KEYS[2] hash {f: first, n: count}.
 * Returns {isNew, size, count, first}.
 */
export const DISTINCT_LUA = `
local z = KEYS[1]
local m = KEYS[2]
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local member = ARGV[6]
if redis.call('EXISTS', m) == 0 and ARGV[1] ~= '' then
  local seed = cjson.decode(ARGV[1])
  redis.call('HSET', m, 'f', string.format('%.17g', seed[1]), 'n', string.format('%.17g', seed[2]))
  for i = 3, #seed, 2 do
    redis.call('ZADD', z, seed[i + 1], string.format('%.17g', seed[i]))
  end
end
redis.call('ZREMRANGEBYSCORE', z, '-inf', '(' .. string.format('%.17g', now - window))
local existed = redis.call('ZSCORE', z, member)
redis.call('ZADD', z, 'GT', now, member)
local size = redis.call('ZCARD', z)
if size > max then
  redis.call('ZREMRANGEBYRANK', z, 0, size - max - 1)
  size = max
end
local n = redis.call('HINCRBY', m, 'n', 1)
redis.call('HSETNX', m, 'f', ARGV[2])
local first = redis.call('HGET', m, 'f')
redis.call('PEXPIRE', z, ttl)
redis.call('PEXPIRE', m, ttl)
local isNew = 1
if existed then isNew = 0 end
return {isNew, size, n, first}
`;

/** Cooldown against the caller's clock (replay and tests run on simulated time). */
export const CLAIM_LUA = `
local v = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[1])
if v and now < tonumber(v) then return 0 end
redis.call('SET', KEYS[1], string.format('%.17g', now + tonumber(ARGV[2])), 'PX', ARGV[3])
return 1
`;

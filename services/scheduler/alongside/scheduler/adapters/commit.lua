-- A guarded, atomic write to one peer's calendar. It is the scheduler's only
-- write path for sessions, so the conflict check and the write can never be
-- split, whatever the number of clients or replicas (no lock, no retry loop).
--
-- ARGV[1] is a JSON spec; keys are KEYS indexes. Binary values (protobuf
-- records, event bodies) travel back to back in ARGV[2], cut by spec.sizes;
-- the spec names them by their 1-based index (blob below).
--   sizes   {n, ...}                         the length of each binary value, in order
--   idem    {k, fp}                          a stored record: {'replay', fp, response}
--   expect  {{k, field, blob_or_0}, ...}     HGET must equal blob[i] (0: absent) else {'stale', field}
--   check   {booked, off, buffer, maxlen, cap, ignore = {member...},
--            cands = {{start, end, day_start, day_end}...}}   all in epoch ms
--           -> {'time_off', i} | {'conflict', i[, start, end]} | {'daily_cap', i} for candidate i
--              (a conflict with a stored session names its interval)
--   ops     {'hset', k, field, blob} {'hdel', k, field} {'zadd', k, score, member}
--           {'zrem', k, member} {'sadd', k, member} {'srem', k, member}
--           {'xadd', k, type_blob, body_blob, headers_blob} {'idem', k, fp_blob, response_blob, ttl}
-- Returns {'ok'} once every op ran.

local spec = cjson.decode(ARGV[1])

local blob, at = {}, 1
for i, size in ipairs(spec.sizes or {}) do
  blob[i] = string.sub(ARGV[2], at, at + size - 1)
  at = at + size
end

local function num(x)
  return string.format('%.0f', x)
end

local function overlaps(s1, e1, s2, e2, pad)
  return s1 < e2 + pad and s2 < e1 + pad
end

-- The first live session near [s, e) as {start, end}, or nil: a session lasts
-- at most maxlen, so any that comes within the buffer starts after
-- s - buffer - maxlen.
local function conflict(c, ignore, s, e)
  local near = redis.call('ZRANGEBYSCORE', KEYS[c.booked], '(' .. num(s - c.buffer - c.maxlen),
    '(' .. num(e + c.buffer), 'WITHSCORES')
  for i = 1, #near, 2 do
    local member = near[i]
    if not ignore[member] then
      local other_start, other_end = tonumber(near[i + 1]), tonumber(string.match(member, '|(%d+)$'))
      if overlaps(s, e, other_start, other_end, c.buffer) then return {other_start, other_end} end
    end
  end
  return nil
end

-- Sessions starting on the candidate's peer-local day, minus those replaced.
local function day_count(c, ignore, ds, de)
  local n = redis.call('ZCOUNT', KEYS[c.booked], num(ds), '(' .. num(de))
  for member in pairs(ignore) do
    local score = redis.call('ZSCORE', KEYS[c.booked], member)
    if score and tonumber(score) >= ds and tonumber(score) < de then n = n - 1 end
  end
  return n
end

local function check(c)
  local ignore = {}
  for _, m in ipairs(c.ignore) do ignore[m] = true end
  local offs = {}
  for _, span in ipairs(redis.call('HVALS', KEYS[c.off])) do
    local a, b = string.match(span, '^(%d+)|(%d+)$')
    offs[#offs + 1] = {tonumber(a), tonumber(b)}
  end
  for i, cand in ipairs(c.cands) do
    local s, e, ds, de = cand[1], cand[2], cand[3], cand[4]
    for _, off in ipairs(offs) do
      if overlaps(s, e, off[1], off[2], 0) then return {'time_off', i} end
    end
    local taken = conflict(c, ignore, s, e)
    if taken then return {'conflict', i, num(taken[1]), num(taken[2])} end
    local n = 0
    for j = 1, i - 1 do
      local other = c.cands[j]
      if overlaps(s, e, other[1], other[2], c.buffer) then return {'conflict', i} end
      if other[1] >= ds and other[1] < de then n = n + 1 end
    end
    if c.cap > 0 and n + day_count(c, ignore, ds, de) >= c.cap then return {'daily_cap', i} end
  end
  return nil
end

if spec.idem then
  local stored = redis.call('HMGET', KEYS[spec.idem[1]], 'fp', 'response')
  if stored[1] then return {'replay', stored[1], stored[2]} end
end

for _, e in ipairs(spec.expect or {}) do
  local current = redis.call('HGET', KEYS[e[1]], e[2])
  local wanted = false
  if e[3] > 0 then wanted = blob[e[3]] end
  if current ~= wanted then return {'stale', e[2]} end
end

if spec.check then
  local refused = check(spec.check)
  if refused then return refused end
end

local apply = {
  hset = function(key, op) redis.call('HSET', key, op[3], blob[op[4]]) end,
  hdel = function(key, op) redis.call('HDEL', key, op[3]) end,
  zadd = function(key, op) redis.call('ZADD', key, num(op[3]), op[4]) end,
  zrem = function(key, op) redis.call('ZREM', key, op[3]) end,
  sadd = function(key, op) redis.call('SADD', key, op[3]) end,
  srem = function(key, op) redis.call('SREM', key, op[3]) end,
  xadd = function(key, op)
    redis.call('XADD', key, '*', 'type', blob[op[3]], 'body', blob[op[4]], 'headers', blob[op[5]])
  end,
  idem = function(key, op)
    redis.call('HSET', key, 'fp', blob[op[3]], 'response', blob[op[4]])
    redis.call('EXPIRE', key, op[5])
  end,
}

-- Vet every op before the first write: a script is not rolled back on error.
local ops = spec.ops or {}
for _, op in ipairs(ops) do
  if not apply[op[1]] then return redis.error_reply('unknown op ' .. tostring(op[1])) end
end
for _, op in ipairs(ops) do
  apply[op[1]](KEYS[op[2]], op)
end
return {'ok'}

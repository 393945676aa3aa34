-- Claim due reminders of one peer and queue their events, atomically.
-- KEYS[1] the peer's pending-reminder set, KEYS[2] the peer's outbox stream.
-- ARGV holds groups of four: reminder id, event type, body, headers. An empty
-- type drops the reminder without an event (its session is gone or started).
-- ZREM is the claim: of any number of replicas, exactly one removes a given
-- reminder, and only that one appends its event, in the same atomic step.
local fired = 0
for i = 1, #ARGV, 4 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 and ARGV[i + 1] ~= '' then
    redis.call('XADD', KEYS[2], '*', 'type', ARGV[i + 1], 'body', ARGV[i + 2], 'headers', ARGV[i + 3])
    fired = fired + 1
  end
end
return fired

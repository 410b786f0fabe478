-- stamp(job, trace, delay): what a producer with OpenTelemetry asks to keep with a new job. `trace`
-- '' or nil (no telemetry) writes nothing; '-' writes `t`, the server time at which the job becomes
-- runnable (now + delay), from which the worker measures its lag; any other value is the producer's
-- trace context, kept as `tc` beside `t` so that the job's processing joins the producer's trace.
--!include now
local function stamp(job, trace, delay)
  if trace == nil or trace == '' then return end
  if trace == '-' then
    redis.call('HSET', job, 't', tostring(now + delay))
  else
    redis.call('HSET', job, 't', tostring(now + delay), 'tc', trace)
  end
end

-- performlua.sandbox.jobs: the asynchronous work that moves on the sandbox clock.
--
-- Two kinds, both kept on the account (`acct.jobs`, `acct.pending`):
--   jobs     sends, imports, automations and activities whose state (Status, NumberSent, ...)
--            is computed from the clock whenever someone looks (refresh), never on a timer;
--   pending  queued requests (an asynchronous Create, a schedule's next occurrence) that run
--            when the clock reaches their time (defer, then tick).
-- acct.durations says how long a job is queued and how long it takes in all (clock seconds).
--
-- Both are plain data, never closures, so `--state` can keep them across a restart
-- (state.lua): a pending entry names its kind, whose runner a module registered (M.register),
-- and a job names what runs when it completes (M.register_completion). Stored objects they
-- refer to (a Send, the definition a schedule sends) are written as references to them.
local clock_mod = require "performlua.sandbox.clock"

local M = {}

-- kind -> {run = function(acct, data, due), restored = function(acct, data) or nil}
M.kinds = {}
-- name -> function(acct, job): what a job does once, when it completes
M.completions = {}

--- Names the runner of pending work of `kind`: run(acct, data, due) when the clock reaches
--- due; restored(acct, data), when given, rebuilds what is derived from data after a restart.
function M.register(kind, run, restored)
  M.kinds[kind] = {run = run, restored = restored}
end

function M.register_completion(name, fn)
  M.completions[name] = fn
end

--- Starts moving `job` ({kind = "send" | "import" | "automation" | "activity", obj =, ...})
--- from now on the clock; returns it.
function M.add(acct, job)
  job.started = acct:now()
  job.last = job.started
  job.progress = 0
  acct.jobs[#acct.jobs + 1] = job
  M.refresh(acct, job)
  return job
end

--- Brings the job's object up to the clock's now (its status, counts, finish time) and runs
--- its on_complete once when it finishes.
function M.refresh(acct, job)
  local now = acct:now()
  if not job.paused and not job.canceled and not job.done then
    job.progress = job.progress + (now - job.last)
  end
  job.last = now
  local d = acct.durations
  local o = job.obj
  local fraction = math.max(0, math.min(1, (job.progress - d.queued) / (d.total - d.queued)))
  local finished = job.progress >= d.total
  local finish_time = clock_mod.format(now - math.max(0, job.progress - d.total))
  if job.kind == "send" then
    if job.canceled then o.Status = "Canceled"
    elseif finished then
      o.Status = "Complete"
      o.NumberSent = o.NumberTargeted
      o.NumberDelivered = job.delivered or o.NumberTargeted
      o.SentDate = o.SentDate or finish_time
      job.done = true
    elseif job.paused then o.Status = "Paused"
    elseif job.progress < d.queued then o.Status = "Scheduled"
    else
      o.Status = "Sending"
      o.NumberSent = math.floor((o.NumberTargeted or 0) * fraction)
      o.NumberDelivered = math.floor((job.delivered or o.NumberTargeted or 0) * fraction)
    end
  elseif job.kind == "import" then
    if finished then
      o.ImportStatus = "Completed"
      o.NumberSuccessful = o.TotalRows
      o.EndDate = o.EndDate or finish_time
      job.done = true
    elseif job.progress < d.queued then o.ImportStatus = "Queued"
    else
      o.ImportStatus = "Importing"
      o.NumberSuccessful = math.floor((o.TotalRows or 0) * fraction)
    end
  elseif job.kind == "automation" then
    if finished then
      o.Status = job.after
      job.done = true
    else
      o.Status = 3
    end
  else -- an activity's AsyncActivityStatus
    if finished then
      o.Status = "Complete"
      o.CompletedDate = o.CompletedDate or finish_time
      o.ProcessedCount = o.TotalCount
      job.done = true
    elseif job.progress < d.queued then o.Status = "Queued"
    else
      o.Status = "Running"
      o.ProcessedCount = math.floor((tonumber(o.TotalCount) or 0) * fraction)
    end
  end
  if job.on_complete and job.done and not job.completed then
    job.completed = true
    M.completions[job.on_complete](acct, job)
  end
end

--- Queue work for sandbox clock time `due` (seconds since the epoch): an asynchronous request
--- is processed then, not when it arrives, as the service queues it. `kind` names its runner
--- (M.register), which gets `data` (plain values and stored objects) and due.
function M.defer(acct, due, kind, data)
  assert(M.kinds[kind], kind)
  acct.pending[#acct.pending + 1] = {due = due, kind = kind, data = data}
end

--- After a restart (state.lua put acct.pending back): lets each kind rebuild what it derives
--- from its data.
function M.restored(acct)
  for _, p in ipairs(acct.pending) do
    local k = M.kinds[p.kind]
    if k and k.restored then k.restored(acct, p.data) end
  end
end

--- Runs the queued requests that are due, then refreshes every job and forgets the finished.
function M.tick(acct)
  -- take due requests out before running them: running one may tick again. Running one may
  -- also queue work that is already due (a schedule's next occurrence when the clock jumped
  -- past several): those run too, in time order, before the jobs are refreshed.
  local now = acct:now()
  while true do
    local due, waiting = {}, {}
    for _, p in ipairs(acct.pending) do
      if p.due <= now then due[#due + 1] = p else waiting[#waiting + 1] = p end
    end
    if #due == 0 then break end
    acct.pending = waiting
    table.sort(due, function(a, b) return a.due < b.due end)
    for _, p in ipairs(due) do M.kinds[p.kind].run(acct, p.data, p.due) end
  end
  if acct.held_triggered and #acct.held_triggered > 0 then
    require("performlua.sandbox.triggered").release_held(acct)
  end
  local keep = {}
  for _, job in ipairs(acct.jobs) do
    M.refresh(acct, job)
    if not job.done and not job.canceled then keep[#keep + 1] = job end
  end
  acct.jobs = keep
end

--- The job that moves `obj` (a Send, an AsyncActivityStatus, ...), or nil once it is done.
function M.of(acct, obj)
  for _, job in ipairs(acct.jobs) do
    if job.obj == obj then return job end
  end
  return nil
end

return M

-- performlua.loop: one event loop of coroutines over one libcurl multi handle.
--
-- Every wait in performlua (an HTTP exchange, a sleep, a free slot under a client's in-flight
-- limit, a token refresh started by another call) goes through `suspend`:
--   * inside a coroutine started by this loop (a "task": each function given to mc.parallel,
--     each item of mc.map) the task yields and the loop resumes it when the wait is over, so
--     other tasks proceed meanwhile;
--   * anywhere else (the main script, or a coroutine the user created) the caller drives the
--     loop itself until its own wait is over, running every other task meanwhile.
-- So client calls and mc.sleep look the same everywhere, and there is one code path.
--
-- Public (through `mc`): parallel(f1, f2, ...), map(list, fn, {concurrency = N}), sleep(s),
-- now() (seconds on a monotonic clock: mc.now() - started is a duration).
-- For the client: http(request), semaphore(n), future().
local core = require "performlua.core"
local errors = require "performlua.errors"

local M = {}

local YIELD = setmetatable({}, {__name = "performlua.loop.yield"})
-- Resuming a suspended task with CANCEL makes its wait raise instead of return (see cancel_all).
local CANCEL = setmetatable({}, {__name = "performlua.loop.cancel"})

local multi                                   -- the one multi handle (created on first use)
-- transfer id -> who waits for its response: the coroutine of a task (woken with it), or MAIN
-- (the main script, driving the loop itself: the response is parked in `arrived` for it).
-- No closure, packed table or queue entry table per exchange: those were a measurable part
-- of a call's Lua work.
local waiters = {}
local MAIN = setmetatable({}, {__name = "performlua.loop.main"})
local arrived = {}                            -- transfer id -> response, for MAIN waiters
local timers = {}                             -- {at =, wake =}, sorted by `at`
-- FIFO of the coroutines to resume, each with the one value its wait produced (every wake
-- hands over at most one: a response, or nothing)
local ready, ready_arg = {}, {}
local ready_head, ready_tail = 1, 0
local tasks = setmetatable({}, {__mode = "k"}) -- coroutine -> task

M.now = core.monotonic

-- The signal (SIGINT, SIGTERM) that interrupted the running chunk, or nil: the CLI's
-- performlua.signal (runtime/cli/interrupt.c); a host without it is never interrupted.
local function signal_pending()
  local signal = package.loaded["performlua.signal"]
  return signal and signal.pending() or nil
end
M.signal_pending = signal_pending

--- Records `err` as the error that says what an interruption stopped: the CLI raises it again
--- in the script's own code, so a pcall there cannot swallow it. Returns err.
--- The task making the call keeps it too (the one in doubt, if any), so an interrupted mc.map
--- counts the item right even when its function caught the error and returned.
function M.note_interrupted(err)
  local signal = package.loaded["performlua.signal"]
  if signal and signal.note then signal.note(err) end
  local co = coroutine.running()
  local task = tasks[co]
  if task and (task.interrupted == nil
      or (err.outcome_unknown and not task.interrupted.outcome_unknown)) then
    task.interrupted = err
  end
  return err
end

local SIGNAL_TEXT = {SIGINT = "interrupted by Ctrl-C (SIGINT)", SIGTERM = "stopped by SIGTERM"}

--- The error a wait raises once the run was interrupted (kind "interrupted", .signal).
function M.interrupted_error(signal)
  signal = signal or signal_pending() or "SIGINT"
  return errors.new{kind = "interrupted", signal = signal, message = SIGNAL_TEXT[signal]
    or ("interrupted by " .. tostring(signal))}
end
local interrupted_error = M.interrupted_error

local function get_multi()
  if not multi then multi = core.http_multi() end
  return multi
end

local usage = errors.usage
local interrupted_group -- defined with run_group

local function make_ready(co, arg)
  ready_tail = ready_tail + 1
  ready[ready_tail] = co
  ready_arg[ready_tail] = arg
end

local function finish_task(task, ok, ...)
  tasks[task.co] = nil
  task.done = true
  task.ok = ok
  if ok then
    task.results = table.pack(...)
  else
    task.error = ...
  end
  if task.on_done then task.on_done(task) end
end

-- What a resume of task coroutine co returned (see step).
local function after_resume(co, resumed, ...)
  -- looked up after the resume: a group's worker (run_group) registers each item it takes as
  -- the task of its coroutine, and itself again when it ends
  local task = tasks[co]
  if coroutine.status(co) == "dead" then
    if not task then return end
    if resumed then
      -- the task body returns (true, results...) or (false, error) from its xpcall
      finish_task(task, ...)
    else
      finish_task(task, false, (...))
    end
  elseif (...) ~= YIELD and task then
    -- The function yielded to us directly (coroutine.yield outside a coroutine of its own):
    -- we cannot know what it waits for, so the task fails instead of hanging.
    finish_task(task, false, errors.new{kind = "usage", message = errors.where_in(co)
      .. "coroutine.yield() was called directly inside a function run by mc.parallel or mc.map; "
      .. "wrap your own generator in coroutine.wrap/create"})
  end
end

-- Resumes a task with the value its wait produced.
local function step(co, arg)
  return after_resume(co, coroutine.resume(co, arg))
end

local function fire_timers()
  local now = core.monotonic()
  local fired = false
  while timers[1] and timers[1].at <= now do
    local t = table.remove(timers, 1)
    t.wake()
    fired = true
  end
  return fired
end

local function run_ready()
  while ready_head <= ready_tail do
    local co, arg = ready[ready_head], ready_arg[ready_head]
    ready[ready_head], ready_arg[ready_head] = nil, nil
    ready_head = ready_head + 1
    step(co, arg)
  end
end

-- Hands a finished transfer's response to whoever waits for it (see waiters).
local function dispatch(response)
  local id = response.id
  local waiter = waiters[id]
  waiters[id] = nil
  if waiter == MAIN then
    arrived[id] = response
  elseif waiter then
    make_ready(waiter, response)
  end
end

-- Drives the loop until pred(arg) is true.
-- Once a signal arrived, no wait goes on (sticky: a script that caught the error and calls
-- again is stopped again), and nothing more is polled, so a request that had not left when
-- the signal came never leaves.
local function run_until(pred, arg)
  while true do
    run_ready()
    if pred(arg) then return end
    local signal = signal_pending()
    if signal then error(interrupted_error(signal), 0) end
    if not fire_timers() then
      local pending = multi and multi:pending() or 0
      local timeout = 0.5 -- bounded, so an interrupt (Ctrl-C hook) is seen promptly
      if timers[1] then
        timeout = math.max(0, math.min(timeout, timers[1].at - core.monotonic()))
      elseif pending == 0 then
        usage("nothing left to wait for: a call waits for something that can never happen "
          .. "(a coroutine suspended outside the event loop?)")
      end
      local done = get_multi():poll(timeout)
      for i = 1, #done do dispatch(done[i]) end
      fire_timers()
    end
  end
end

-- True when the running code is a task of this loop (so it may yield to the loop).
local function current_task()
  local co, is_main = coroutine.running()
  if is_main then return nil end
  local task = tasks[co]
  if task and task.co == co then return task end
  return nil
end
M.in_task = function() return current_task() ~= nil end

--- The coroutine that started task `co` (nil when co is no task): the run journal's steps
--- reach the calls of their mc.map / mc.parallel this way.
function M.parent_of(co)
  local task = tasks[co]
  return task and task.parent or nil
end

-- A task's wait was cancelled (see cancel_all): it raises instead of returning.
local function raise_cancelled()
  local signal = signal_pending()
  if signal then error(interrupted_error(signal), 0) end
  error(errors.new{kind = "interrupted", message = "interrupted: this call was "
    .. "cancelled because the line or script that started it was interrupted"}, 0)
end

-- Waits until the `wake` function given to register(wake) is called; returns the one value
-- wake was given (every wake in performlua passes at most one).
local function suspend(register)
  local task = current_task()
  if task then
    local co = task.co
    local woken = false
    register(function(value)
      if woken then return end
      woken = true
      make_ready(co, value)
    end)
    local woke = coroutine.yield(YIELD)
    if woke == CANCEL then raise_cancelled() end
    return woke
  end
  local done, value = false, nil
  register(function(v)
    if done then return end
    done, value = true, v
  end)
  run_until(function() return done end)
  return value
end
M.suspend = suspend

local function has_arrived(id) return arrived[id] ~= nil end

-- Waits for the response of transfer id: suspend for one HTTP exchange, without its closures.
local function wait_response(id)
  local task = current_task()
  if task then
    waiters[id] = task.co
    local woke = coroutine.yield(YIELD)
    if woke == CANCEL then raise_cancelled() end
    return woke
  end
  waiters[id] = MAIN
  run_until(has_arrived, id)
  local response = arrived[id]
  arrived[id] = nil
  return response
end

-- Starts a function as a task; on_done(task) is called when it finishes.
local function spawn(fn, on_done)
  local task = {on_done = on_done, parent = coroutine.running()}
  local function handler(e)
    task.traceback = debug.traceback(nil, 2)
    return e
  end
  task.co = coroutine.create(function(first)
    -- cancelled before it ever ran: it started nothing
    if first == CANCEL then
      task.not_started = true
      return false, interrupted_error()
    end
    return xpcall(fn, handler)
  end)
  tasks[task.co] = task
  make_ready(task.co)
  return task
end
M.spawn = spawn

--- Cancels every task still pending after the code that waited for it was abandoned (Ctrl-C
--- in the REPL stops the line driving the loop, not the tasks of its mc.map/mc.parallel). Each
--- suspended task is resumed once more with its wait raising an "interrupted" error, so its own
--- cleanup (pcall, <close>) runs and it starts nothing new; transfers in flight are abandoned.
--- Without this, the next call that runs the loop would silently carry on the interrupted
--- work — for example start the rest of a list of sends the user meant to stop.
function M.cancel_all()
  if next(tasks) == nil and next(waiters) == nil and timers[1] == nil then return end
  if multi then
    multi:close()
    multi = nil
  end
  waiters, timers, arrived = {}, {}, {}
  ready, ready_arg, ready_head, ready_tail = {}, {}, 1, 0
  for _ = 1, 10 do
    local pending = {}
    for co in pairs(tasks) do
      if coroutine.status(co) == "suspended" then pending[#pending + 1] = co end
    end
    if #pending == 0 then return end
    for _, co in ipairs(pending) do
      if tasks[co] then step(co, CANCEL) end
    end
    -- what cancelled tasks woke (a parent group, a semaphore waiter) is cancelled too
    waiters, timers, arrived = {}, {}, {}
    ready, ready_arg, ready_head, ready_tail = {}, {}, 1, 0
  end
  -- a task that keeps catching its cancellation is dropped
  for co in pairs(tasks) do
    tasks[co] = nil
    coroutine.close(co)
  end
end

--- HTTP: starts the transfer and waits for it; returns the response table of core.http_multi.
--- Interrupted while the transfer runs, it raises kind "interrupted" with `sent`: whether the
--- request had begun to leave (so the service may have it).
function M.http(request)
  local m = get_multi()
  local on_sent = request.on_sent -- a test hook (transport's PERFORMLUA_TEST_STOP_AT)
  request.on_sent = nil
  local id = m:start(request)
  local mine
  if on_sent then
    while m:sent(id) == false do
      for _, response in ipairs(m:poll(0.01)) do
        if response.id == id then
          mine = response
        else
          dispatch(response)
        end
      end
    end
    on_sent()
    if mine then return mine end
  end
  local ok, resp = pcall(wait_response, id)
  if ok then return resp end
  waiters[id], arrived[id] = nil, nil
  if errors.is_error(resp) and resp.kind == "interrupted" then
    -- no answer once the handle is gone (cancel_all closed it): say it may have left
    local known, sent = pcall(m.sent, m, id)
    error(errors.new{kind = "interrupted", signal = resp.signal, message = resp.message,
      sent = not (known and sent == false)}, 0)
  end
  error(resp, 0)
end

--- mc.sleep(seconds): pauses the caller; other tasks keep running.
function M.sleep(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds or seconds < 0 then
    usage("mc.sleep(seconds) needs a number of seconds >= 0, got " .. tostring(seconds))
  end
  local at = core.monotonic() + seconds
  suspend(function(wake)
    local i = #timers + 1
    while i > 1 and timers[i - 1].at > at do i = i - 1 end
    table.insert(timers, i, {at = at, wake = wake})
  end)
end

--- A counting semaphore: at most n holders; waiters are served first come, first served.
function M.semaphore(n)
  local s = {available = n, queue = {}}
  function s.acquire(self)
    if self.available > 0 and #self.queue == 0 then
      self.available = self.available - 1
      return
    end
    -- the releasing holder hands its slot straight to us
    local mine
    local ok, err = pcall(suspend, function(wake)
      mine = wake
      self.queue[#self.queue + 1] = wake
    end)
    if not ok then
      -- Cancelled while waiting: leave the queue, or pass on a slot already handed to us, so
      -- the slot is not lost to a task that will never run.
      local queued = false
      for i, w in ipairs(self.queue) do
        if w == mine then table.remove(self.queue, i); queued = true; break end
      end
      if not queued then self:release() end
      error(err, 0)
    end
  end
  function s.release(self)
    local wake = table.remove(self.queue, 1)
    if wake then wake() else self.available = self.available + 1 end
  end
  return s
end

--- A value that arrives later, awaited by any number of callers (single-flight work).
function M.future()
  local f = {done = false, waiting = {}}
  local function settle(self, err, ...)
    if self.done then return end
    self.done, self.err, self.values = true, err, table.pack(...)
    local waiting = self.waiting
    self.waiting = {}
    for _, wake in ipairs(waiting) do wake() end
  end
  function f.resolve(self, ...) settle(self, nil, ...) end
  function f.reject(self, err) settle(self, err) end
  function f.wait(self)
    if not self.done then
      suspend(function(wake) self.waiting[#self.waiting + 1] = wake end)
    end
    if self.err ~= nil then error(self.err, 0) end
    return table.unpack(self.values, 1, self.values.n)
  end
  return f
end

-- The error raised when a member of a group failed: the original error's fields (when it is a
-- performlua error) with the failing member named in the message, plus item, cause, failures.
local function group_error(api, noun, failures, results, name_of)
  table.sort(failures, function(a, b) return a.index < b.index end)
  local first = failures[1]
  local cause = first.error
  local name = name_of and name_of(first.index)
  local prefix = string.format("%s: %s %d%s failed", api, noun, first.index,
    name and (" (" .. name .. ")") or "")
  if #failures > 1 then
    prefix = prefix .. string.format(" (and %d more)", #failures - 1)
  end
  local err = {}
  if errors.is_error(cause) then
    for k, v in pairs(cause) do err[k] = v end
    err.message = prefix .. ": " .. tostring(cause.message)
  else
    err.kind = "script"
    -- a plain table raised by the script (error{message = ...}) reads by its message, not as
    -- "table: 0x..."
    local text = cause
    if type(cause) == "table" and getmetatable(cause) == nil and cause.message ~= nil then
      text = cause.message
    end
    err.message = prefix .. ": " .. tostring(text)
  end
  err.item = first.index
  err.cause = cause
  err.traceback = first.traceback
  err.failures = failures
  err.results = results
  return errors.new(err)
end

-- The signal interrupted the code waiting for a group: its tasks still pending are cancelled
-- (each interrupted call says whether its request had left), and the error accounts for every
-- member: done, failed, in doubt (interrupted after a request that changes something may have
-- reached the service), stopped (interrupted with nothing in doubt: what was in flight had not
-- left, or changes nothing), not started.
interrupted_group = function(api, noun, count, cause, tasks_of, results, failures)
  local group = {}
  for _, task in pairs(tasks_of) do
    if task.co then group[task.co] = task end -- settled members have let theirs go
  end
  for _ = 1, 10 do
    local pending = {}
    for co, task in pairs(group) do
      if not task.done and coroutine.status(co) == "suspended" then pending[#pending + 1] = co end
    end
    if #pending == 0 then break end
    for _, co in ipairs(pending) do
      if tasks[co] then step(co, CANCEL) end
    end
  end
  local done, failed, in_doubt, stopped, not_started = {}, {}, {}, {}, {}
  local failed_error = {}
  for _, f in ipairs(failures) do failed_error[f.index] = f.error end
  for i = 1, count do
    local task = tasks_of[i]
    local e = failed_error[i]
    if not task or task.not_started then
      not_started[#not_started + 1] = i
    elseif task.interrupted then -- even when its function caught the error and returned
      if task.interrupted.outcome_unknown then
        in_doubt[#in_doubt + 1] = i
      else
        stopped[#stopped + 1] = i
      end
    elseif task.done and task.ok then
      done[#done + 1] = i
    elseif e ~= nil and errors.is_error(e) and e.kind == "interrupted" then
      if e.outcome_unknown then in_doubt[#in_doubt + 1] = i else stopped[#stopped + 1] = i end
    elseif e ~= nil then
      failed[#failed + 1] = i
    else
      in_doubt[#in_doubt + 1] = i -- still running and could not be stopped
    end
  end
  local function list(t)
    if #t > 12 then return table.concat(t, ", ", 1, 12) .. ", ..." end
    return table.concat(t, ", ")
  end
  local parts = {string.format("%d done", #done)}
  if #failed > 0 then parts[#parts + 1] = string.format("%d failed (%s)", #failed, list(failed)) end
  if #in_doubt > 0 then
    parts[#parts + 1] = string.format("%d in doubt (%s: a request that changes something may "
      .. "have reached the service; check them before running again)", #in_doubt, list(in_doubt))
  end
  if #stopped > 0 then
    parts[#parts + 1] = string.format("%d stopped with nothing in doubt (%s)", #stopped,
      list(stopped))
  end
  parts[#parts + 1] = string.format("%d not started", #not_started)
  return M.note_interrupted(errors.new{kind = "interrupted", signal = cause.signal,
    message = string.format("%s during %s of %d %ss: %s", tostring(cause.message), api, count,
      noun, table.concat(parts, ", ")),
    outcome_unknown = #in_doubt > 0 or nil, done = done, failed = failed, in_doubt = in_doubt,
    stopped = stopped, not_started = not_started, results = results, failures = failures})
end

-- Runs call(i) for i = 1..count, at most `concurrency` at a time; waits until all have
-- settled. After a failure no new member is started (what already runs may finish).
-- The members run on a pool of min(concurrency, count) worker tasks, each taking the next
-- index when its member settles: one coroutine per worker, not per member (a coroutine, two
-- closures and packed tables per member were ~56,000 instructions a call with 16 in flight).
-- Each member still has a record of its own, registered as its worker's task while it runs,
-- so what an interruption reads per member (done, ok, interrupted, not_started, the
-- coroutine to cancel while it runs) and what note_interrupted and parent_of find are the
-- member's, as with a task per member.
local function run_group(api, noun, count, concurrency, call, name_of)
  local results, failures = {}, {}
  local next_index, workers = 1, 0
  local settled = count == 0
  local wake_parent
  local stopping = false
  local tasks_of = {}

  -- the next member to run, or nil: none left, a member failed, or the group is stopping
  local function take()
    if stopping or next_index > count or #failures > 0 then return nil end
    local i = next_index
    next_index = next_index + 1
    return i
  end

  local function on_worker_done(worker)
    workers = workers - 1
    if not worker.ok and not worker.not_started then
      -- the worker's own loop failed (out of memory, say): its member with it
      local member = worker.member
      if member and not member.done then
        member.done, member.ok, member.co = true, false, nil
        failures[#failures + 1] = {index = member.index, error = worker.error,
                                   traceback = worker.traceback}
      end
    end
    if workers == 0 then
      settled = true
      if wake_parent then wake_parent() end
    end
  end

  -- A member whose function yielded to the loop directly (see step): it fails, and its
  -- worker, stuck in that yield, is let go (no member is started after a failure).
  local function on_member_abandoned(member)
    member.done, member.ok, member.co = true, false, nil
    failures[#failures + 1] = {index = member.index, error = member.error}
    on_worker_done({ok = true})
  end

  local function worker_body(worker)
    local member
    local function handler(e)
      member.traceback = debug.traceback(nil, 2)
      return e
    end
    return function()
      local co = worker.co
      local i = take()
      while i do
        member = {co = co, index = i, parent = worker.parent, on_done = on_member_abandoned}
        worker.member = member
        tasks_of[i] = member
        tasks[co] = member
        local ok, r = xpcall(call, handler, i)
        tasks[co] = worker
        member.done, member.ok, member.co = true, ok, nil
        if ok then
          results[i] = r
        else
          failures[#failures + 1] = {index = i, error = r, traceback = member.traceback}
        end
        i = take()
      end
      worker.member = nil
    end
  end

  for _ = 1, math.min(concurrency, count) do
    workers = workers + 1
    local body
    local worker = spawn(function() return body() end, on_worker_done)
    body = worker_body(worker)
  end
  if not settled then
    local ok, err = pcall(suspend, function(wake) wake_parent = wake end)
    if not ok then
      if not (errors.is_error(err) and err.kind == "interrupted") then error(err, 0) end
      stopping = true
      wake_parent = nil
      error(interrupted_group(api, noun, count, err, tasks_of, results, failures), 0)
    end
  end
  if #failures > 0 then
    error(group_error(api, noun, failures, results, name_of), 0)
  end
  return results
end

--- mc.parallel(f1, f2, ...): runs the functions concurrently; returns their results in order.
function M.parallel(...)
  local fns = table.pack(...)
  for i = 1, fns.n do
    if type(fns[i]) ~= "function" then
      usage(string.format("mc.parallel: argument #%d is a %s, expected a function", i,
        type(fns[i])))
    end
  end
  local results = run_group("mc.parallel", "function", fns.n, math.max(fns.n, 1),
    function(i) return fns[i]() end)
  return table.unpack(results, 1, fns.n)
end

--- mc.map(list, fn, {concurrency = N}): fn(item, index) for every item, at most N at a time
--- (default 8); returns the results in input order.
function M.map(list, fn, options)
  if type(list) ~= "table" then
    usage("mc.map: argument #1 must be a list (table), got " .. type(list))
  end
  if type(fn) ~= "function" then
    usage("mc.map: argument #2 must be a function, got " .. type(fn))
  end
  if options ~= nil and type(options) ~= "table" then
    usage("mc.map: argument #3 must be an options table such as {concurrency = 4}")
  end
  local concurrency = options and options.concurrency or 8
  if math.type(concurrency) ~= "integer" or concurrency < 1 then
    usage("mc.map: concurrency must be an integer >= 1, got " .. tostring(concurrency))
  end
  local n = #list
  if n == 0 and next(list) ~= nil then
    -- a table keyed by names has no order to return results in: say so rather than return {}
    usage("mc.map: argument #1 must be a list (an array such as {\"a\", \"b\"}); this table "
      .. "has keys but no item 1")
  end
  -- a string or number item is named in the error too: "item 2 ('north') failed"
  local function name_of(i)
    local item = list[i]
    if type(item) == "string" and #item <= 60 then return string.format("%q", item) end
    if math.type(item) then return tostring(item) end
    return nil
  end
  return run_group("mc.map", "item", n, concurrency, function(i) return fn(list[i], i) end,
    name_of)
end

return M

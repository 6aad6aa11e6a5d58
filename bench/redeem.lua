-- POST /invites/{token}/redeem, each call a new email: run id and thread number keep them unique.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  run_id = args[1]
  password = args[2]
  counter = 0
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"email":"bench-%s-%d-%d@example.com","password":"%s","first_name":"Bench"}',
    run_id, thread_no, counter, password)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

-- POST one chat message asking for the reply as Server-Sent Events; wrk reads the chunked answer to its end.
-- The headers given with -H (the token) are kept: wrk.format replaces them when given a table of its own.
function init(args)
  headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Content-Type"] = "application/json"
  headers["Accept"] = "text/event-stream"
end

function request()
  return wrk.format("POST", nil, headers, '{"content":"hello there"}')
end

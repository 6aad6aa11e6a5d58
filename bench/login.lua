-- POST /auth/login with one user's credentials; wrk's init() gets them as arguments.
function init(args)
  body = string.format('{"email":"%s","password":"%s"}', args[1], args[2])
end

function request()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

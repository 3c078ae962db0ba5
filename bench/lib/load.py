"""The native load generator: wrk, driven by a Lua script that posts a JSON body with a fresh
id per request, signed in as one of several users in turn, and prints its own percentiles."""

import json
import os
import subprocess
import tempfile

LUA = r"""
local tokens = %(tokens)s
local body = %(body)s
local path = %(path)s
local run = %(run)d
local next_thread = 0
local threads = {}

function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
  table.insert(threads, thread)
end

local counter = 0
function request()
  counter = counter + 1
  local id = string.format("%%08x-%%04x-4000-8000-%%012x", run, tid, counter)
  local token = tokens[(counter * 7 + tid) %% #tokens + 1]
  local text = string.gsub(body, "__ID__", id)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, text)
end

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT {\"requests\": %%d, \"duration_us\": %%d, \"bad_status\": %%d, \"socket_errors\": %%d, " ..
    "\"p50\": %%.3f, \"p95\": %%.3f, \"p99\": %%.3f}\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def lua_string(text):
    return json.dumps(text)  # a JSON string is a valid Lua string literal for this text


def post_load(port, path, tokens, body_with_id, concurrency, seconds, run):
    """Posts `body_with_id` (its `__ID__` replaced by a fresh UUID per request) to `path` with
    `concurrency` connections for `seconds`; answers reports/s, percentiles (ms) and errors."""
    script = LUA % {
        "tokens": "{" + ", ".join(lua_string(t) for t in tokens) + "}",
        "body": lua_string(json.dumps(body_with_id)),
        "path": lua_string(path),
        "run": run,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        name = f.name
    try:
        threads = min(2, concurrency)
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s", "--timeout", "10s",
             "-s", name, f"http://127.0.0.1:{port}"],
            check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(name)
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    ok = r["requests"] - r["bad_status"]
    seconds_run = r["duration_us"] / 1e6
    return {"rate": ok / seconds_run, "ok": ok, "bad": r["bad_status"] + r["socket_errors"],
            "p50": r["p50"], "p95": r["p95"], "p99": r["p99"]}

"""Long-poll: ingest with no waiter, then with idle long-polls of another organization held
open throughout (each waits on an empty feed; none of them should be woken by the ingest)."""

import socket
import subprocess
import time

from harness import PASSWORD, expect, report, setup
from load import post_load
from server import Server, shoppers

OTHER = "other-admin@bench.example.test"


def other_org(binary, url):
    """Creates a second organization and answers its admin's email (for sign-in)."""
    env = {"DATABASE_URL": url, "SECONDMILE_LOG": "warn", "PATH": "/usr/bin:/bin"}
    subprocess.run([binary, "create-admin", "--org-name", "Other", "--email", OTHER],
                   input=PASSWORD + "\n", env=env, check=True, capture_output=True, text=True)
    return OTHER


def hold(port, token, count):
    """Opens `count` long-polls (60 s) of the feed; answers the sockets (close to end them)."""
    held = []
    request = (f"GET /api/v1/events?wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode()
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request)
        held.append(s)
    return held


def run(binary, label, url, quick):
    waiters = 50 if quick else 1000
    seconds = 2 if quick else 10
    concurrency = 4 if quick else 16
    server = Server(binary, url, {"SECONDMILE_REQUEST_TIMEOUT_SECS": "120"})
    try:
        admin, _, location, questionnaire = setup(server.port)
        tokens = shoppers(server, admin, 4 if quick else 16, PASSWORD)
        body = report(location, questionnaire)
        body["id"] = "__ID__"
        other_org(binary, url)
        other = expect(server.api().call("POST", "/api/v1/auth/token", {
            "grant_type": "password", "username": OTHER, "password": PASSWORD,
        }), 200, "other sign-in")
        post_load(server.port, "/api/v1/reports", tokens, body, concurrency, 1, 0)
        quiet = post_load(server.port, "/api/v1/reports", tokens, body, concurrency, seconds, 1)
        held = hold(server.port, other["access_token"], waiters)
        time.sleep(1)
        busy = post_load(server.port, "/api/v1/reports", tokens, body, concurrency, seconds, 2)
        for s in held:
            s.close()
        # Alone again: the table grew during the runs, so the change is measured against
        # the mean of the runs before and after.
        time.sleep(1)
        after = post_load(server.port, "/api/v1/reports", tokens, body, concurrency, seconds, 3)
        quiet = {k: (quiet[k] + after[k]) / 2 for k in ("rate", "p50", "p99")}
    finally:
        peak = server.stop()
    return {"label": label, "waiters": waiters, "concurrency": concurrency, "quiet": quiet, "busy": busy,
            "peak": peak}


def table(results):
    lines = ["## Long-poll", "",
             "Ingest alone, with idle long-polls (`wait=60`) of another organization held open, then alone "
             "again; the first row is the mean of the two runs alone.", "",
             "| backend | waiters | reports/s | p50 ms | p99 ms | p99 change |", "|---|---|---|---|---|---|"]
    for r in results:
        q, b = r["quiet"], r["busy"]
        lines.append(f"| {r['label']} | 0 | {q['rate']:,.0f} | {q['p50']:.1f} | {q['p99']:.1f} | |")
        lines.append(f"| {r['label']} | {r['waiters']:,} | {b['rate']:,.0f} | {b['p50']:.1f} | {b['p99']:.1f} | "
                     f"{b['p99'] / q['p99'] - 1:+.0%} |")
    lines += ["", "Concurrency " + ", ".join(f"{r['label']} {r['concurrency']}" for r in results)
              + "; peak RSS " + ", ".join(f"{r['label']} {r['peak']:.0f} MiB" for r in results) + ".", ""]
    return lines

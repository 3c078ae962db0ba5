"""Statements: what a write request costs the database, counted by the server itself
(`secondmile_db_statements_total` on /metrics, `BEGIN` and `COMMIT` included, the event
sequencer's numbering after the commit too): a report submitted, a report approved (with
action plans off and on), an appeal opened and decided. The figure is the mean over the
requests; it should only move when a change means it to."""

import time

from harness import PASSWORD, Api, expect, report, setup
from server import Server


def counted(port):
    """The server's statement count now."""
    conn = Api(port)
    conn.conn.request("GET", "/metrics")
    text = conn.conn.getresponse().read().decode()
    for line in text.splitlines():
        if line.startswith("secondmile_db_statements_total "):
            return int(float(line.split()[1]))
    raise RuntimeError("the server does not count its statements (secondmile_db_statements_total)")


def settled(port):
    """The count once nothing runs in the background any more (the sequencer numbers a
    commit's events just after it)."""
    last = counted(port)
    while True:
        time.sleep(0.3)
        now = counted(port)
        if now == last:
            return now
        last = now


def per_request(port, act, n):
    """Mean statements of `act(i)` over `n` calls."""
    before = settled(port)
    for i in range(n):
        act(i)
    return (settled(port) - before) / n


def run(binary, label, url, quick):
    n = 5 if quick else 40
    server = Server(binary, url)
    try:
        admin_token, shopper_token, location, questionnaire = setup(server.port)
        admin, shopper = server.api(admin_token), server.api(shopper_token)
        manager_id = expect(admin.call("POST", "/api/v1/users", {
            "email": "manager@example.test", "display_name": "M", "role": "manager", "password": PASSWORD,
        }), 201, "create the manager")["id"]
        expect(admin.call("PUT", f"/api/v1/users/{manager_id}/locations", {"location_ids": [location]}),
               200, "assign the manager")
        manager = server.api(expect(server.api().call("POST", "/api/v1/auth/token", {
            "grant_type": "password", "username": "manager@example.test", "password": PASSWORD,
        }), 200, "manager sign-in")["access_token"])
        ids = []

        def submit(_):
            body = report(location, questionnaire)
            ids.append(body["id"])
            expect(shopper.call("POST", "/api/v1/reports", body), 201, "submit")

        def approve(offset):
            return lambda i: expect(admin.call("POST", f"/api/v1/reports/{ids[offset + i]}/review",
                                               {"action": "approve"}), 200, "approve")

        rows = [("submit a report (`POST /reports`)", per_request(server.port, submit, 2 * n))]
        rows.append(("approve it, action plans off", per_request(server.port, approve(0), n)))
        # An older server (measured for a comparison) may lack what the rows below use: those
        # rows are then left blank.
        plans = admin.call("PUT", "/api/v1/organization/settings", {"action_plans": True})[0] == 200
        rows.append(("approve it, action plans on",
                     per_request(server.port, approve(n), n) if plans else None))
        appeals = []

        def open_appeal(i):
            appeals.append(expect(manager.call("POST", f"/api/v1/reports/{ids[i]}/appeals", {
                "questions": ["greeted"], "reason": "The camera shows a greeting."}), 201, "appeal")["id"])

        def amend(i):
            expect(admin.call("POST", f"/api/v1/appeals/{appeals[i]}/decision", {
                "decision": "amend", "note": "Confirmed.",
                "answers": [{"question": "greeted", "value": False}]}), 200, "amend")

        can_appeal = manager.call("GET", "/api/v1/appeals")[0] == 200
        rows.append(("open an appeal", per_request(server.port, open_appeal, n) if can_appeal else None))
        rows.append(("amend it (re-score, rollups, verdict, plans)",
                     per_request(server.port, amend, n) if can_appeal else None))
    finally:
        peak = server.stop()
    return {"label": label, "rows": rows, "peak": peak, "n": n}


def table(results):
    lines = ["## Statements per write", "",
             "What each request costs the database, counted by the server "
             "(`secondmile_db_statements_total`, `BEGIN` and `COMMIT` included, and the event "
             "sequencer's numbering after the commit), the mean over the requests of each row.", ""]
    labels = [r["label"] for r in results]
    lines += ["| request | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for i, (name, _) in enumerate(results[0]["rows"]):
        cells = (r["rows"][i][1] for r in results)
        lines.append(f"| {name} | " + " | ".join("–" if c is None else f"{c:.1f}" for c in cells) + " |")
    lines += ["", "Server peak RSS: " + ", ".join(f"{r['label']} {r['peak']:.0f} MiB" for r in results) + ".", ""]
    return lines

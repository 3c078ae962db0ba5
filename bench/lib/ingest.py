"""Ingest: shoppers post unique valid reports through the API at several concurrencies, beside
the durable floor (the rows one report must leave, written in one transaction straight to the
database) measured in the same run."""

import json
import re
import sqlite3
import subprocess
import tempfile
import time

from harness import PASSWORD, report, setup
from load import post_load
from server import Server, psql, shoppers


def run(binary, label, url, sqlite_path, quick):
    counts = (1, 4) if quick else (1, 4, 16, 64)
    seconds = 2 if quick else 10
    server = Server(binary, url)
    try:
        admin, _, location, questionnaire = setup(server.port)
        tokens = shoppers(server, admin, 4 if quick else 64, PASSWORD)
        body = report(location, questionnaire)
        body["id"] = "__ID__"
        post_load(server.port, "/api/v1/reports", tokens, body, 4, 1, 0)  # warm-up
        api = {}
        for run_no, c in enumerate(counts, 1):
            api[c] = post_load(server.port, "/api/v1/reports", tokens, body, c, seconds, run_no)
        rss = server.rss()
    finally:
        peak = server.stop()
    if sqlite_path is None:
        floor = {c: pg_floor(url, c, seconds) for c in counts}
        batched = None
    else:
        floor, batched = sqlite_floor(sqlite_path, seconds)
    return {"label": label, "counts": counts, "api": api, "floor": floor, "batched": batched,
            "rss_after": rss, "peak": peak}


def template(url, table, where):
    return json.loads(psql(url, f"SELECT row_to_json(t) FROM {table} t WHERE {where} LIMIT 1"))


def pg_floor(url, concurrency, seconds):
    """The rows a submitted report leaves (report, transition, event), one transaction each,
    replayed with pgbench at `concurrency` clients; answers transactions/s."""
    rep = template(url, "reports", "true")
    rid = rep["id"]
    transition = template(url, "report_transitions", f"report_id = '{rid}'")
    event = template(url, "events", f"subject_id = '{rid}'")
    fresh = "('00000000-0000-4000-8%03d-' || CAST(:n AS text))"
    def row(table, value, overrides):
        # pgbench reads `:name` as a variable, even inside a literal: spell those colons
        # (only ever inside JSON strings here; json.dumps puts a space after the others) as
        # JSON escapes.
        text = re.sub(r":(?=\w)", r"\\u003a", json.dumps(value)).replace("$", "\\u0024")
        sets = ", ".join(f"'{k}', {v}" for k, v in overrides.items())
        return (f"INSERT INTO {table} SELECT * FROM jsonb_populate_record(NULL::{table}, "
                f"$j${text}$j$::jsonb || jsonb_build_object({sets}));")
    script = "\n".join([
        "\\set n random(100000000000, 999999999999)",
        "BEGIN;",
        row("reports", rep, {"id": fresh % 1}),
        row("report_transitions", transition, {"id": fresh % 2, "report_id": fresh % 1}),
        row("events", event, {"id": fresh % 3, "subject_id": fresh % 1, "seq": "CAST(:n AS bigint)"}),
        "COMMIT;",
    ])
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as f:
        f.write(script)
        f.flush()
        out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(concurrency),
                              "-j", str(min(2, concurrency)), "-T", str(seconds), "-f", f.name, url],
                             capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed: {out.stderr[-2000:]}")
    out = out.stdout
    tps = next(l for l in out.splitlines() if l.startswith("tps ="))
    return float(tps.split()[2])


def sqlite_floor(path, seconds):
    """The same rows written through SQLite directly (WAL, synchronous=FULL): one transaction
    per report, and 100 reports per transaction; answers reports/s of each."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.row_factory = sqlite3.Row
    rep = dict(db.execute("SELECT * FROM reports LIMIT 1").fetchone())
    transition = dict(db.execute("SELECT * FROM report_transitions WHERE report_id = ?", (rep["id"],)).fetchone())
    event = dict(db.execute("SELECT * FROM events WHERE subject_id = ?", (rep["id"],)).fetchone())
    top = db.execute("SELECT max(seq) FROM events").fetchone()[0]
    counter = [0]

    def insert(table, row):
        cols = ", ".join(row)
        db.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))

    def one():
        counter[0] += 1
        n = counter[0]
        rid = f"00000000-0000-4000-8001-{n:012d}"
        insert("reports", dict(rep, id=rid))
        insert("report_transitions", dict(transition, id=f"00000000-0000-4000-8002-{n:012d}", report_id=rid))
        insert("events", dict(event, id=f"00000000-0000-4000-8003-{n:012d}", subject_id=rid, seq=top + n))

    def measure(per_tx):
        done, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds:
            db.execute("BEGIN IMMEDIATE")
            for _ in range(per_tx):
                one()
            db.execute("COMMIT")
            done += per_tx
        return done / (time.perf_counter() - began)

    single = measure(1)
    batched = measure(100)
    db.close()
    return single, batched

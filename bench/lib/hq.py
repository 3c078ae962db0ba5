"""HQ reads at scale and the rollups rebuild (PostgreSQL): an organization of LOCATIONS stores
in 50 regions with REPORTS released reports over five years, every report a full document
with an answer to every question (copies of real reports submitted and approved through the
API, spread over the stores and dates by SQL). `secondmile rollups rebuild` is timed as a
section of its own; then the HQ reads the dashboard makes, p50 and p95 over HTTP, beside a
plain GROUP BY over the reports table of the same 90 days (server-side time)."""

import os
import random
import re
import statistics
import subprocess
import time

from harness import EMAIL, PASSWORD, EXAMPLE, Api, expect, free_port, report, scratch_postgres, start
from server import mib, psql

YEARS_DAYS = 5 * 365
REGIONS = 50
TEMPLATES = 12


def sizes(quick):
    """(locations, reports); SECONDMILE_BENCH_HQ_SIZE=LOCATIONS,REPORTS overrides them."""
    asked = os.environ.get("SECONDMILE_BENCH_HQ_SIZE")
    if asked:
        locations, reports = (int(v) for v in asked.split(","))
        return locations, reports
    return (400, 4_000) if quick else (20_000, 200_000)


def percentiles(values):
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.95))]


def columns(url, table):
    return psql(url, f"SELECT column_name FROM information_schema.columns "
                     f"WHERE table_name = '{table}' ORDER BY ordinal_position").split("\n")


def copies(url, table, from_sql, replaced):
    """INSERT INTO table every column of the rows `t` of `from_sql`, some replaced by SQL."""
    cols = columns(url, table)
    select = ", ".join(replaced.get(c, f"t.{c}") for c in cols)
    psql(url, f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} FROM {from_sql}")


def templates(port, admin, location, questionnaire, shopper_token):
    """Submits and approves TEMPLATES reports with varied answers; answers nothing."""
    shopper = Api(port, shopper_token)
    rng = random.Random(7)
    for i in range(TEMPLATES):
        body = report(location, questionnaire)
        for a in body["answers"]:
            q = a["question"]
            if q in ("greeted", "eye_contact", "smiled", "appearance", "purchase_smooth", "clean_outside"):
                a["value"] = rng.random() > 0.2
            elif q == "on_phone":
                a["value"] = rng.random() < 0.15
            elif q in ("remembered_name", "unexpressed_need"):
                a["value"] = rng.random() < 0.3
            elif q == "courtesy":
                a["value"] = rng.randint(1, 5)
            elif q == "clean_inside":
                a["value"] = rng.randint(1, 5)
        created = expect(shopper.call("POST", "/api/v1/reports", body), 201, f"template {i}")
        expect(admin.call("POST", f"/api/v1/reports/{created['id']}/review", {"action": "approve"}),
               200, f"approve template {i}")


def load(url, org, template_location, locations, reports):
    loc_id = "md5('bench-location-' || g)::uuid::text"
    copies(url, "locations", f"(SELECT * FROM locations WHERE id = '{template_location}') t, "
                             f"generate_series(1, {locations}) g", {
        "id": loc_id, "code": "'B-' || g", "name": "'Bench store ' || g",
        "region": f"'Region ' || lpad((g % {REGIONS})::text, 2, '0')",
    })
    day = f"(current_date - ((g * 7919) % {YEARS_DAYS}))"
    copies(url, "reports",
           f"(SELECT r.*, row_number() OVER (ORDER BY r.id) - 1 AS n FROM reports r "
           f"WHERE r.org_id = '{org}' AND r.status = 'approved') t "
           f"JOIN generate_series(1, {reports}) g ON t.n = g % {TEMPLATES}", {
               "id": "md5('bench-report-' || g)::uuid::text",
               "location_id": f"md5('bench-location-' || (1 + g % {locations}))::uuid::text",
               "visit_local_date": f"to_char({day}, 'YYYY-MM-DD')",
               "visit_started_at": f"{day} + time '10:00'",
               "created_at": f"{day} + time '12:00'",
               "updated_at": f"{day} + time '12:00'",
               "body_hash": "md5('bench-report-' || g)",
           })
    psql(url, "ANALYZE")


def rebuild(binary, url):
    """Runs `secondmile rollups rebuild`; answers (seconds, peak RSS MiB)."""
    env = {"DATABASE_URL": url, "SECONDMILE_LOG": "warn", "PATH": "/usr/bin:/bin"}
    began = time.perf_counter()
    proc = subprocess.Popen([binary, "rollups", "rebuild"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        value = mib(proc.pid, "VmHWM")
        if value == value:
            peak = max(peak, value)
        time.sleep(0.05)
    if proc.returncode != 0:
        raise RuntimeError(f"rollups rebuild failed: {proc.stderr.read()}")
    return time.perf_counter() - began, peak


def timed(api, path, samples):
    out = []
    for _ in range(samples):
        t = time.perf_counter()
        status, body = api.call("GET", path)
        out.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise RuntimeError(f"{path}: {status} {body}")
    return percentiles(out)


def group_by(url, org, samples):
    sql = f"""EXPLAIN (ANALYZE, FORMAT TEXT)
        SELECT location_id, count(*), avg(overall_score), count(*) FILTER (WHERE mile_level = 'zero')
        FROM reports WHERE org_id = '{org}' AND status = 'approved'
          AND visit_local_date >= to_char(current_date - 89, 'YYYY-MM-DD')
        GROUP BY location_id"""
    out = [float(re.search(r"Execution Time: ([\d.]+) ms", psql(url, sql)).group(1)) for _ in range(samples)]
    return percentiles(out)


def run(binary, server_url, quick):
    locations, reports = sizes(quick)
    samples = 5 if quick else 20
    created = scratch_postgres(server_url)
    if created is None:
        return ["## HQ reads at scale and the rollups rebuild", "", "PostgreSQL unreachable: skipped.", ""]
    url, drop = created
    port = free_port()
    proc = start(binary, url, port)
    try:
        token = expect(Api(port).call("POST", "/api/v1/auth/token", {
            "grant_type": "password", "username": EMAIL, "password": PASSWORD}), 200, "sign in")["access_token"]
        admin = Api(port, token)
        org = expect(admin.call("GET", "/api/v1/me"), 200, "me")["organization"]["id"]
        location = expect(admin.call("POST", "/api/v1/locations", {
            "code": "T-1", "name": "Template", "timezone": "Europe/Lisbon", "region": "Region 00"}),
            201, "template location")["id"]
        q = expect(admin.call("POST", "/api/v1/questionnaires", dict(EXAMPLE, key="bench")), 201, "questionnaire")
        expect(admin.call("POST", f"/api/v1/questionnaires/{q['id']}/publish"), 200, "publish")
        expect(admin.call("POST", "/api/v1/users", {"email": "shopper@example.test", "display_name": "S",
                                                    "role": "shopper", "password": PASSWORD}), 201, "shopper")
        shopper = expect(Api(port).call("POST", "/api/v1/auth/token", {
            "grant_type": "password", "username": "shopper@example.test", "password": PASSWORD}), 200,
            "shopper sign-in")["access_token"]
        templates(port, admin, location, q["id"], shopper)
        began = time.perf_counter()
        load(url, org, location, locations, reports)
        loaded = time.perf_counter() - began
        released = int(psql(url, "SELECT count(*) FROM reports WHERE status = 'approved'"))
        seconds, peak = rebuild(binary, url)
        periods = int(psql(url, "SELECT count(*) FROM rollups"))
        question_rows = int(psql(url, "SELECT count(*) FROM rollup_questions"))
        verify = subprocess.run([binary, "rollups", "verify"], env={"DATABASE_URL": url, "SECONDMILE_LOG": "warn"},
                                capture_output=True, text=True)
        admin = Api(port, token)  # a fresh connection after the long load
        some = psql(url, f"SELECT id FROM locations WHERE org_id = '{org}' ORDER BY code LIMIT 1 OFFSET 7")
        reads = [
            ("leaderboard, 50 rows by mean score, 90 days", "/api/v1/aggregates/locations?limit=50&order_by=mean_score&dir=desc"),
            ("leaderboard, 50 rows by zero-mile rate, 90 days", "/api/v1/aggregates/locations?limit=50&order_by=zero_mile_rate&dir=desc"),
            ("leaderboard, 50 rows by mean score, 365 days", "/api/v1/aggregates/locations?limit=50&order_by=mean_score&dir=desc&period=365"),
            ("regions, 90 days", "/api/v1/aggregates/regions"),
            ("overview, 90 days", "/api/v1/aggregates/overview"),
            ("a location's summary, 90 days", f"/api/v1/locations/{some}/summary"),
            ("a location's weekly trend, 90 days", f"/api/v1/locations/{some}/trend?bucket=week"),
            ("the organization's weekly trend, a year", "/api/v1/aggregates/trend?bucket=week&from={year_ago}"),
            ("what changed: 90 days against the 90 before, first 50 locations", "/api/v1/aggregates/changes?limit=50"),
            ("a location's changes, 90 days against the 90 before", f"/api/v1/locations/{some}/changes"),
            ("what to train: the drivers of one questionnaire, 90 days", "/api/v1/aggregates/drivers?questionnaire_key=bench"),
            ("a location's drivers beside its region's peers, 90 days",
             f"/api/v1/aggregates/drivers?questionnaire_key=bench&location_id={some}&min_visits=1"),
            ("action plans, first 50 with an overdue action", "/api/v1/action-plans?limit=50&overdue=true"),
        ]
        year_ago = psql(url, "SELECT to_char(current_date - 364, 'YYYY-MM-DD')")
        measured = []
        for name, path in reads:
            path = path.replace("{year_ago}", year_ago)
            if "period=365" in path:
                path = path.replace("&period=365", f"&from={year_ago}")
            measured.append((name, timed(admin, path, samples)))
        plain = group_by(url, org, max(3, samples // 4))
        peak_server = mib(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(timeout=35)
        drop()
    board = measured[0][1][0]
    lines = [
        "## HQ reads at scale and the rollups rebuild (PostgreSQL)", "",
        f"{locations:,} locations in {REGIONS} regions, {released:,} released reports over five years, "
        f"each with an answer to every question (loaded by SQL in {loaded:.0f} s).", "",
        "| rollups rebuild | figure |", "|---|---|",
        f"| time | {seconds:.1f} s |",
        f"| reports/s | {released / seconds:,.0f} |",
        f"| rollup periods / question rows written | {periods:,} / {question_rows:,} |",
        f"| peak RSS | {peak:.0f} MiB |",
        f"| `rollups verify` afterwards | {'clean' if verify.returncode == 0 else 'DIFFERENCES'} |", "",
        "| HQ read | p50 ms | p95 ms |", "|---|---|---|",
        *[f"| {name} | {p50:.1f} | {p95:.1f} |" for name, (p50, p95) in measured],
        f"| baseline: plain GROUP BY over reports, 90 days (server time) | {plain[0]:.1f} | {plain[1]:.1f} |", "",
        f"GROUP BY / leaderboard first page (p50): {plain[0] / board:.2f}x. Server peak RSS: {peak_server:.0f} MiB.", "",
    ]
    return lines

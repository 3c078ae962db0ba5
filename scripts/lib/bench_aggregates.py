"""Aggregate read cost as reports pile up: loads SIZES released reports (default 10000 and
1000000) over the same 200 locations and 2 years into a scratch PostgreSQL database (SQL
bulk insert, and the rollups filled by SQL aggregation of the same rows), then prints p50 and
p95 of the location summary, the weekly trend and the leaderboard over HTTP, beside the
same leaderboard computed by a plain GROUP BY over the reports table (server-side time from
EXPLAIN ANALYZE). The rollups' cost grows with locations x periods, not with reports.
Usage: scripts/bench-aggregates [SIZES...]
PostgreSQL: SECONDMILE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).

Run by scripts/bench-aggregates, which builds the binary and passes the arguments."""

import random, re, subprocess, sys, time
from harness import EMAIL, PASSWORD, EXAMPLE, Api, free_port, scratch_postgres, start


def main():
    binary, server, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
    LOCATIONS, DAYS, SAMPLES = 200, 730, 40


    def psql(url, sql):
        return subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                              check=True, capture_output=True, text=True).stdout


    def percentiles(values):
        values = sorted(values)
        return values[len(values) // 2], values[min(len(values) - 1, int(len(values) * 0.95))]


    def load(url, org, location_ids, questionnaire_id, shopper, n):
        ids = "ARRAY[" + ",".join(f"'{i}'" for i in location_ids) + "]"
        psql(url, "TRUNCATE rollup_questions, rollup_sections, rollups, "
                  "report_transitions, report_revisions, reports")
        psql(url, f"""
            INSERT INTO reports (org_id, id, location_id, questionnaire_id, questionnaire_key, shopper_id,
                status, revision, visit_started_at, visit_local_date, overall_score, mile_level, body_hash,
                document, created_at, updated_at)
            SELECT '{org}', md5(g::text)::uuid::text, ({ids})[1 + g % {LOCATIONS}], '{questionnaire_id}',
                'bench', '{shopper}', 'approved', 1, now() - (g % {DAYS}) * interval '1 day',
                to_char(current_date - (g % {DAYS}), 'YYYY-MM-DD'), 40 + (g * 37 % 600) / 10.0,
                CASE WHEN g % 13 = 0 THEN 'zero' WHEN g % 4 = 0 THEN 'second' ELSE 'first' END,
                'bench', '{{}}', now(), now()
            FROM generate_series(1, {n}) g""")
        # Day, ISO week and month rows, as the server keeps them (histogram buckets h00 to h19).
        week = "to_char(to_date(visit_local_date, 'YYYY-MM-DD'), 'IYYY-\"W\"IW')"
        histogram = ", ".join(f"count(*) FILTER (WHERE least(19, floor(overall_score / 5)) = {i})" for i in range(20))
        for period in ["visit_local_date", week, "substr(visit_local_date, 1, 7)"]:
            psql(url, f"""
                INSERT INTO rollups SELECT org_id, location_id, questionnaire_key, {period}, count(*),
                    count(overall_score), coalesce(sum(overall_score), 0),
                    coalesce(sum(overall_score * overall_score), 0), min(overall_score), max(overall_score),
                    count(*) FILTER (WHERE mile_level = 'zero'), count(*) FILTER (WHERE mile_level = 'first'),
                    count(*) FILTER (WHERE mile_level = 'second'), 0, {histogram}
                FROM reports WHERE status = 'approved' GROUP BY 1, 2, 3, 4""")
        psql(url, "ANALYZE")


    def timed(api, path):
        out = []
        for _ in range(SAMPLES):
            t = time.perf_counter()
            status, _ = api.call("GET", path)
            out.append((time.perf_counter() - t) * 1000)
            assert status == 200, (path, status)
        return percentiles(out)


    def group_by(url, org):
        sql = f"""EXPLAIN (ANALYZE, FORMAT TEXT)
            SELECT location_id, count(*), avg(overall_score), count(*) FILTER (WHERE mile_level = 'second')
            FROM reports WHERE org_id = '{org}' AND status = 'approved'
              AND visit_local_date >= to_char(current_date - 89, 'YYYY-MM-DD')
            GROUP BY location_id"""
        out = []
        for _ in range(SAMPLES // 4):
            text = psql(url, sql)
            out.append(float(re.search(r"Execution Time: ([\d.]+) ms", text).group(1)))
        return percentiles(out)


    created = scratch_postgres(server)
    if created is None:
        print(f"PostgreSQL at {server} is unreachable; nothing measured")
        sys.exit(0)
    url, drop = created
    port = free_port()
    proc = start(binary, url, port)
    try:
        _, tokens = Api(port).call("POST", "/api/v1/auth/token", {"grant_type": "password", "username": EMAIL, "password": PASSWORD})
        admin = Api(port, tokens["access_token"])
        _, me = admin.call("GET", "/api/v1/me")
        org = me["organization"]["id"]
        location_ids = []
        for i in range(LOCATIONS):
            status, l = admin.call("POST", "/api/v1/locations", {"code": f"B-{i}", "name": f"Bench {i}", "timezone": "Europe/Lisbon"})
            assert status == 201, l
            location_ids.append(l["id"])
        _, q = admin.call("POST", "/api/v1/questionnaires", dict(EXAMPLE, key="bench"))
        admin.call("POST", f"/api/v1/questionnaires/{q['id']}/publish")
        _, shopper = admin.call("POST", "/api/v1/users", {"email": "shopper@example.test", "display_name": "S", "role": "shopper", "password": PASSWORD})
        print(f"{'reports':>9} {'summary p50/p95':>17} {'trend p50/p95':>15} {'leaderboard p50/p95':>21} {'GROUP BY p50/p95 (server)':>27}")
        results = {}
        for n in sizes:
            t = time.perf_counter()
            load(url, org, location_ids, q["id"], shopper["id"], n)
            loaded = time.perf_counter() - t
            # A fresh connection: the server closes idle keep-alive connections during a long load.
            admin = Api(port, tokens["access_token"])
            loc = random.Random(7).choice(location_ids)
            row = (timed(admin, f"/api/v1/locations/{loc}/summary"),
                   timed(admin, f"/api/v1/locations/{loc}/trend?bucket=week"),
                   timed(admin, "/api/v1/aggregates/locations?limit=200"),
                   group_by(url, org))
            results[n] = row
            fmt = lambda p: f"{p[0]:7.1f}/{p[1]:7.1f} ms"
            print(f"{n:>9} {fmt(row[0]):>17} {fmt(row[1]):>15} {fmt(row[2]):>21} {fmt(row[3]):>27}   (loaded in {loaded:.0f} s)")
        if len(sizes) >= 2:
            small, large = results[sizes[0]], results[sizes[-1]]
            for name, i in [("summary", 0), ("trend", 1), ("leaderboard", 2)]:
                print(f"{name}: p50 at {sizes[-1]} is {large[i][0] / small[i][0]:.2f}x the p50 at {sizes[0]}")
            print(f"GROUP BY over leaderboard at {sizes[-1]}: {large[3][0] / large[2][0]:.1f}x (p50)")
    finally:
        proc.terminate()
        proc.wait()
        drop()


if __name__ == "__main__":
    main()

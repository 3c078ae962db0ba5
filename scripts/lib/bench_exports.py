"""CSV export cost as reports pile up: loads N approved reports (default 10000 and 100000; SQL
copies of one report submitted and approved through the API) into SQLite and PostgreSQL,
downloads GET /exports/reports.csv (one row per report) and ?layout=answers, and prints the
rows per second and the server's resident memory: before, and the peak while streaming
(sampled from /proc every 5 ms). Flat memory across sizes is the streaming at work.
Also times `secondmile demo` (the release binary) on both backends.
Usage: scripts/bench-exports [SIZES...]
PostgreSQL: SECONDMILE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).

Run by scripts/bench-exports, which builds the binary and passes the arguments."""

import http.client, os, sqlite3, subprocess, sys, tempfile, threading, time
from harness import Api, free_port, report, scratch_postgres, setup, start


def main():
    binary, server, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
    COLUMNS = ("org_id, location_id, questionnaire_id, questionnaire_key, shopper_id, status, revision, "
               "visit_started_at, visit_local_date, overall_score, mile_level, body_hash, document, created_at, updated_at")


    def copy_sql(n, sqlite):
        ident = ("printf('00000000-0000-4000-8000-%012d', i)" if sqlite
                 else "'00000000-0000-4000-8000-' || lpad(i::text, 12, '0')")
        return (f"DELETE FROM reports WHERE id LIKE '00000000-0000-4000-8000-%';"
                f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "
                f"INSERT INTO reports (id, {COLUMNS}) SELECT {ident}, {COLUMNS} FROM reports, n "
                f"WHERE reports.id NOT LIKE '00000000-0000-4000-8000-%'")


    def rss_kib(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


    def download(port, token, path, pid):
        peak, done = [rss_kib(pid)], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kib(pid))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        before = rss_kib(pid)
        sampler.start()
        t = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("GET", path, headers={"authorization": f"Bearer {token}"})
        r = conn.getresponse()
        rows = -1  # the header
        while True:
            chunk = r.read(1 << 16)
            if not chunk:
                break
            rows += chunk.count(b"\n")
        elapsed = time.perf_counter() - t
        done.set()
        sampler.join()
        assert r.status == 200, r.status
        return rows, elapsed, before, peak[0]


    def bench(label, url, sqlite_path=None):
        port = free_port()
        proc = start(binary, url, port)
        try:
            admin, shopper, location, questionnaire = setup(port)
            body = report(location, questionnaire)
            status, stored = Api(port, shopper).call("POST", "/api/v1/reports", body)
            assert status == 201, stored
            status, decided = Api(port, admin).call("POST", f"/api/v1/reports/{stored['id']}/review", {"action": "approve"})
            assert status == 200, decided
            for n in sizes:
                if sqlite_path:
                    db = sqlite3.connect(sqlite_path)
                    db.executescript(copy_sql(n - 1, True))
                    db.close()
                else:
                    subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", copy_sql(n - 1, False)],
                                   check=True, capture_output=True)
                for layout, path in [("reports", "/api/v1/exports/reports.csv"),
                                     ("answers", "/api/v1/exports/reports.csv?layout=answers")]:
                    rows, elapsed, before, peak = download(port, admin, path, proc.pid)
                    print(f"{label:10} {n:>8} reports {layout:8} {rows:>9} rows  {rows / elapsed:>9.0f} rows/s  "
                          f"RSS {before / 1024:6.1f} MiB before, peak {peak / 1024:6.1f} MiB while streaming")
        finally:
            proc.terminate()
            proc.wait()


    def demo_time(label, url):
        env = dict(os.environ, DATABASE_URL=url, SECONDMILE_LOG="warn")
        t = time.perf_counter()
        out = subprocess.run([binary, "demo", "--password", "demo passphrase 1"], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        print(f"{label:10} secondmile demo: {time.perf_counter() - t:.1f} s ({out.stdout.splitlines()[0]})")


    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "bench.db")
        bench("SQLite", f"sqlite://{path}", path)
        demo_time("SQLite", f"sqlite://{os.path.join(work, 'demo.db')}")
    created = scratch_postgres(server)
    if created is None:
        print(f"PostgreSQL at {server} is unreachable; not measured there")
        sys.exit(0)
    url, drop = created
    try:
        bench("PostgreSQL", url)
    finally:
        drop()
    created = scratch_postgres(server)
    if created:
        url, drop = created
        try:
            demo_time("PostgreSQL", url)
        finally:
            drop()


if __name__ == "__main__":
    main()

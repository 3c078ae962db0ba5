"""Report ingestion throughput: N concurrent clients post valid visit reports (the example
questionnaire, unique ids) over HTTP to the release binary, on SQLite and on PostgreSQL.
Prints reports/s and latency percentiles per backend.
Usage: scripts/bench-reports [SECONDS] [CONCURRENCY]
PostgreSQL: SECONDMILE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
a scratch database is created and dropped. Skipped when the server is unreachable.

Run by scripts/bench-reports, which builds the binary and passes the arguments."""

import sys, threading, time
from harness import Api, each_backend, free_port, report, setup, start


def main():
    binary, seconds, concurrency = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])

    def run(label, database_url):
        port = free_port()
        proc = start(binary, database_url, port)
        try:
            _, shopper_token, location_id, questionnaire_id = setup(port)
            latencies, errors, lock = [], [], threading.Lock()
            deadline = time.perf_counter() + seconds
            def worker():
                api = Api(port, shopper_token)
                while time.perf_counter() < deadline:
                    body = report(location_id, questionnaire_id)
                    began = time.perf_counter()
                    status, _ = api.call("POST", "/api/v1/reports", body)
                    elapsed = time.perf_counter() - began
                    with lock:
                        (latencies if status == 201 else errors).append(elapsed if status == 201 else status)
            threads = [threading.Thread(target=worker) for _ in range(concurrency)]
            began = time.perf_counter()
            for t in threads: t.start()
            for t in threads: t.join()
            wall = time.perf_counter() - began
            latencies.sort()
            pct = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000
            print(f"{label}: {len(latencies)} reports in {wall:.1f} s with {concurrency} clients = "
                  f"{len(latencies) / wall:.0f} reports/s; latency p50 {pct(0.50):.1f} ms, p95 {pct(0.95):.1f} ms, "
                  f"p99 {pct(0.99):.1f} ms; errors {len(errors)} {sorted(set(errors))[:5]}")
        finally:
            proc.terminate()
            proc.wait(timeout=35)

    each_backend(lambda label, url, _path: run(label, url), "bench.db")


if __name__ == "__main__":
    main()

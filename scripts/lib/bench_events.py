"""Events benchmark, on SQLite and on PostgreSQL, in one run per backend (compare the ratios,
not the absolute figures: the machine is shared):
  1. report ingestion with no webhook, then with a webhook to a local receiver (the outbox
     and the fan-out are in the ingest transaction): reports/s of each and their ratio;
  2. webhook delivery lag (the event's occurred_at to its arrival) p50 / p95 / max under that
     load, and how long the queue took to drain after the load stopped;
  3. long-poll wake-up: a `GET /events?wait=20` waiting when a report is posted; time from
     the report's acknowledgement to the long-poll's answer, p50 / p95.
Usage: scripts/bench-events [SECONDS] [CONCURRENCY]

Run by scripts/bench-events, which builds the binary and passes the arguments."""

import datetime, http.server, json, os, sys, threading, time
from harness import Api, each_backend, free_port, report, setup, start


def main():
    binary, seconds, concurrency = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    os.environ.update(SECONDMILE_WEBHOOK_ALLOW_HTTP="true", SECONDMILE_WEBHOOK_ALLOW_PRIVATE="true")

    arrivals, lock = {}, threading.Lock()

    class Receiver(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            now = time.time()
            occurred = datetime.datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00")).timestamp()
            with lock:
                arrivals.setdefault(body["id"], now - occurred)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")

    def ingest(port, token, location_id, questionnaire_id):
        done, lock2 = [0], threading.Lock()
        deadline = time.perf_counter() + seconds
        def worker():
            api = Api(port, token)
            while time.perf_counter() < deadline:
                if api.call("POST", "/api/v1/reports", report(location_id, questionnaire_id))[0] == 201:
                    with lock2:
                        done[0] += 1
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        began = time.perf_counter()
        for t in threads: t.start()
        for t in threads: t.join()
        return done[0] / (time.perf_counter() - began)

    def run(label, database_url):
        arrivals.clear()
        port = free_port()
        proc = start(binary, database_url, port)
        receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            admin_token, shopper_token, location_id, questionnaire_id = setup(port)
            # A new connection per call: a keep-alive one would be closed while the load runs.
            admin = type("Admin", (), {"call": staticmethod(lambda *a: Api(port, admin_token).call(*a))})
            plain = ingest(port, shopper_token, location_id, questionnaire_id)
            cursor = admin.call("GET", "/api/v1/events?limit=1&types=ping")[1]["next_cursor"]
            admin.call("POST", "/api/v1/webhooks", {"url": f"http://127.0.0.1:{receiver.server_address[1]}/",
                                                   "event_types": ["report.submitted"]})
            hooked = ingest(port, shopper_token, location_id, questionnaire_id)
            stopped = time.time()
            expected = set()
            while True:
                _, page = admin.call("GET", f"/api/v1/events?after={cursor}&limit=500&types=report.submitted")
                expected |= {e["id"] for e in page["items"]}
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    break
            while time.time() - stopped < 120:
                with lock:
                    if expected <= set(arrivals):
                        break
                time.sleep(0.05)
            drained = time.time() - stopped
            with lock:
                lags = [arrivals[i] * 1000 for i in expected if i in arrivals]
            # Long-poll wake-up.
            wakes = []
            shopper = Api(port, shopper_token)
            for _ in range(20):
                _, page = admin.call("GET", f"/api/v1/events?after={cursor}&limit=1")
                cursor = page["next_cursor"]
                answered = {}
                def poll(after=cursor):
                    _, got = Api(port, admin_token).call("GET", f"/api/v1/events?after={after}&wait=20&limit=500")
                    answered["at"], answered["page"] = time.perf_counter(), got
                t = threading.Thread(target=poll)
                t.start()
                time.sleep(0.2)
                shopper.call("POST", "/api/v1/reports", report(location_id, questionnaire_id))
                acked = time.perf_counter()
                t.join()
                wakes.append((answered["at"] - acked) * 1000)
                cursor = answered["page"]["next_cursor"]
            print(f"{label}: ingest {plain:.0f} reports/s without a webhook, {hooked:.0f} with one "
                  f"(ratio {hooked / plain:.2f}); {len(lags)} of {len(expected)} events delivered, lag p50 "
                  f"{pct(lags, 0.5):.0f} ms, p95 {pct(lags, 0.95):.0f} ms, max {max(lags or [0]):.0f} ms, queue drained "
                  f"{drained:.1f} s after the load; long-poll wake-up p50 {pct(wakes, 0.5):.1f} ms, p95 {pct(wakes, 0.95):.1f} ms")
        finally:
            receiver.shutdown()
            proc.terminate()
            proc.wait(timeout=35)

    each_backend(lambda label, url, _path: run(label, url), "bench.db")


if __name__ == "__main__":
    main()

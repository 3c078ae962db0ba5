"""Hostile traffic, three floods against one server, each printing the server's resident
memory before, at its peak and after:
- N requests (default 100,000) with made-up methods and random paths, no token, from 4
  keep-alive connections, and the size and series count of /metrics, which must stay bounded
  (labels come from a closed set);
- an upload flood: one shopper sends 200 uploads of 9.9 MB at once, which are not JPEGs
  that parse (the gate lets a few through, streamed to disk; the others get 429), and the
  file store's size before and after (nothing refused may stay);
- a long-poll flood: 1,100 feed long-polls of one organization at once (1,000 wait, the
  rest get 429).
Usage: scripts/bench-hostile [REQUESTS] [--debug]

Run by scripts/bench-hostile, which builds the binary and passes the arguments."""

import http.client, os, random, string, sys, tempfile, threading, time, uuid
from harness import Api, expect, free_port, report, setup, start, upload


def main():
    binary, total = sys.argv[1], int(sys.argv[2])

    def rss_kib(pid, field="VmRSS:"):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])

    def store_bytes(root):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root) for f in files)

    def upload_flood(port, pid, store):
        """200 uploads of 9.9 MB at once from one shopper."""
        admin, shopper, location_id, questionnaire_id = setup(port)
        body = report(location_id, questionnaire_id)
        photo = str(uuid.uuid4())
        body["answers"].append({"question": "storefront_photo", "value": photo})
        expect(Api(port, shopper).call("POST", "/api/v1/reports", body), 201, "the report")
        junk = b"\xff\xd8\xff\xe0" + b"\x5a" * (9_900_000 - 4)
        before_rss, before_store = rss_kib(pid), store_bytes(store)
        statuses, lock = {}, threading.Lock()
        def send():
            try:
                status, _ = upload(port, shopper, body["id"], photo, junk, timeout=120)
            except OSError:
                # Refused (429) before its body was read, the connection closed while this
                # client was still sending: it never read the answer.
                status = "closed while sending"
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
        started = time.time()
        threads = [threading.Thread(target=send) for _ in range(200)]
        for t in threads: t.start()
        for t in threads: t.join()
        elapsed = time.time() - started
        peak = rss_kib(pid, "VmHWM:")
        time.sleep(1)
        print(f"upload flood: 200 x 9.9 MB in {elapsed:.1f} s; statuses {dict(sorted(statuses.items(), key=str))}")
        print(f"  server RSS: {before_rss / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB, {rss_kib(pid) / 1024:.1f} MiB after; "
              f"file store {before_store / 1e6:.1f} MB before, {store_bytes(store) / 1e6:.1f} MB after")
        return admin

    def long_poll_flood(port, pid, admin):
        """1,100 long-polls (wait=5) of one organization at once."""
        cursor, more = "0", True
        while more:
            page = expect(Api(port, admin).call("GET", f"/api/v1/events?after={cursor}&limit=500"), 200, "the feed")
            cursor, more = page["next_cursor"], page["has_more"]
        before_rss = rss_kib(pid)
        statuses, lock = {}, threading.Lock()
        def poll():
            try:
                status, _ = Api(port, admin).call("GET", f"/api/v1/events?after={cursor}&wait=5")
            except OSError:
                status = "error"
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
        started = time.time()
        threads = [threading.Thread(target=poll) for _ in range(1100)]
        for t in threads: t.start()
        time.sleep(2)
        during = rss_kib(pid)
        for t in threads: t.join()
        elapsed = time.time() - started
        time.sleep(1)
        print(f"long-poll flood: 1,100 at once, done in {elapsed:.1f} s; statuses {dict(sorted(statuses.items(), key=str))}")
        print(f"  server RSS: {before_rss / 1024:.1f} MiB before, {during / 1024:.1f} MiB while waiting, {rss_kib(pid) / 1024:.1f} MiB after")

    def metrics(port):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/metrics")
        body = c.getresponse().read()
        series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        return len(body), series

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        os.environ["SECONDMILE_STORAGE_URL"] = f"file://{tmp}/files"
        proc = start(binary, f"sqlite://{tmp}/hostile.db", port)
        time.sleep(0.5)
        before_rss, (before_size, before_series) = rss_kib(proc.pid), metrics(port)
        statuses, lock = {}, threading.Lock()
        def worker(n, seed):
            rng = random.Random(seed)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            local = {}
            for _ in range(n):
                method = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(3, 12)))
                if rng.random() < 0.3:
                    method = rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
                path = "/" + "/".join("".join(rng.choice(string.ascii_letters + string.digits + "-_.~%")
                                              for _ in range(rng.randint(1, 16))) for _ in range(rng.randint(1, 5)))
                if rng.random() < 0.3:
                    path = "/api/v1" + path
                try:
                    conn.request(method, path)
                    response = conn.getresponse()
                    response.read()
                    local[response.status] = local.get(response.status, 0) + 1
                    if response.getheader("connection", "").lower() == "close":
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    local["error"] = local.get("error", 0) + 1
            with lock:
                for k, v in local.items():
                    statuses[k] = statuses.get(k, 0) + v
        started = time.time()
        threads = [threading.Thread(target=worker, args=(total // 4, i)) for i in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
        elapsed = time.time() - started
        after_rss, (after_size, after_series) = rss_kib(proc.pid), metrics(port)
        print(f"{total} hostile requests in {elapsed:.1f} s ({total / elapsed:.0f}/s); statuses {dict(sorted(statuses.items(), key=str))}")
        print(f"  server RSS: {before_rss / 1024:.1f} MiB before, {after_rss / 1024:.1f} MiB after")
        print(f"  /metrics: {before_size} bytes ({before_series} series) before, {after_size} bytes ({after_series} series) after")
        admin = upload_flood(port, proc.pid, f"{tmp}/files")
        long_poll_flood(port, proc.pid, admin)
        proc.terminate()
        proc.wait(timeout=35)


if __name__ == "__main__":
    main()

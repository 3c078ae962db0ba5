"""Hostile traffic: N requests (default 100,000) with made-up methods and random paths, no
token, from 4 keep-alive connections. Prints the server's resident memory before and after
and the size and series count of /metrics, which must stay bounded (labels come from a
closed set). Usage: scripts/bench-hostile [REQUESTS] [--debug]

Run by scripts/bench-hostile, which builds the binary and passes the arguments."""

import http.client, random, string, sys, tempfile, threading, time
from harness import free_port, start


def main():
    binary, total = sys.argv[1], int(sys.argv[2])

    def rss_kib(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    def metrics(port):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/metrics")
        body = c.getresponse().read()
        series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        return len(body), series

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
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
        proc.terminate()
        proc.wait(timeout=35)
        print(f"{total} hostile requests in {elapsed:.1f} s ({total / elapsed:.0f}/s); statuses {dict(sorted(statuses.items(), key=str))}")
        print(f"server RSS: {before_rss / 1024:.1f} MiB before, {after_rss / 1024:.1f} MiB after")
        print(f"/metrics: {before_size} bytes ({before_series} series) before, {after_size} bytes ({after_series} series) after")


if __name__ == "__main__":
    main()

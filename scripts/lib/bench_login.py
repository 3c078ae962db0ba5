"""Sign-in throughput: argon2id-bound password grants against the release binary on a fresh
SQLite file. Also compares the latency of a wrong password with that of an unknown email
(they should match: unknown emails are verified against a dummy hash).
Usage: scripts/bench-login [SECONDS] [CONCURRENCY]

Run by scripts/bench-login, which builds the binary and passes the arguments."""

import statistics, sys, tempfile, threading, time
from harness import EMAIL, PASSWORD, Api, free_port, start


def main():
    binary, seconds, concurrency = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])

    def sign_in(api, email, password):
        began = time.perf_counter()
        status, _ = api.call("POST", "/api/v1/auth/token", {"grant_type": "password", "username": email, "password": password})
        return status, time.perf_counter() - began

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start(binary, f"sqlite://{tmp}/bench.db", port)
        try:
            sign_in(Api(port), EMAIL, PASSWORD)  # warm up
            latencies, errors, lock = [], [], threading.Lock()
            deadline = time.perf_counter() + seconds
            def worker():
                api = Api(port)
                while time.perf_counter() < deadline:
                    status, elapsed = sign_in(api, EMAIL, PASSWORD)
                    with lock:
                        (latencies if status == 200 else errors).append(elapsed)
            threads = [threading.Thread(target=worker) for _ in range(concurrency)]
            began = time.perf_counter()
            for t in threads: t.start()
            for t in threads: t.join()
            wall = time.perf_counter() - began
            latencies.sort()
            print(f"successful sign-ins: {len(latencies)} in {wall:.1f} s with {concurrency} clients "
                  f"= {len(latencies) / wall:.1f}/s; p50 {statistics.median(latencies) * 1000:.1f} ms, "
                  f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.1f} ms; errors {len(errors)}")
            api = Api(port)
            wrong = [sign_in(api, EMAIL, "wrong passphrase 123")[1] for _ in range(30)]
            unknown = [sign_in(api, "nobody@example.test", "wrong passphrase 123")[1] for _ in range(30)]
            print(f"failed sign-in latency, median of 30: wrong password {statistics.median(wrong) * 1000:.1f} ms, "
                  f"unknown email {statistics.median(unknown) * 1000:.1f} ms")
        finally:
            proc.terminate()
            proc.wait(timeout=35)


if __name__ == "__main__":
    main()

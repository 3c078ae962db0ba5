"""Cold start to ready: launches the release binary on an empty SQLite file (migrations
included) and measures the time until /readyz first answers 200. Prints one line per run
and the median. Usage: scripts/bench-cold-start [RUNS]

Run by scripts/bench-cold-start, which builds the binary and passes the arguments."""

import os, socket, statistics, subprocess, sys, tempfile, time, urllib.request


def main():
    binary, runs = sys.argv[1], int(sys.argv[2])

    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    times = []
    for i in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = dict(os.environ, DATABASE_URL=f"sqlite://{tmp}/cold.db",
                       SECONDMILE_BIND=f"127.0.0.1:{port}", SECONDMILE_LOG="warn")
            start = time.perf_counter()
            proc = subprocess.Popen([binary, "serve"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = start + 30
                while True:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                            if r.status == 200:
                                break
                    except OSError:
                        pass
                    if time.perf_counter() > deadline:
                        sys.exit("server did not become ready within 30 s")
                    time.sleep(0.002)
                elapsed = time.perf_counter() - start
            finally:
                proc.terminate()
                proc.wait(timeout=35)
            times.append(elapsed)
            print(f"run {i + 1}: {elapsed * 1000:.1f} ms to ready")
    print(f"cold start to ready on an empty SQLite file: median {statistics.median(times) * 1000:.1f} ms, "
          f"min {min(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {runs} runs")


if __name__ == "__main__":
    main()

"""Start-up and memory: cold start to /readyz on an empty SQLite file and on an empty
PostgreSQL database, idle RSS, and `secondmile demo` on both backends."""

import os
import statistics
import subprocess
import tempfile
import time
import urllib.request

from harness import free_port, scratch_postgres
from server import mib



def pg_server():
    return os.environ.get("SECONDMILE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def cold_start(binary, url):
    """Starts the server on `url`; answers (seconds to the first 200 of /readyz, idle RSS MiB
    two seconds later)."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, SECONDMILE_BIND=f"127.0.0.1:{port}", SECONDMILE_LOG="warn")
    began = time.perf_counter()
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() - began > 60:
                raise RuntimeError("the server did not become ready within 60 s")
            time.sleep(0.002)
        ready = time.perf_counter() - began
        time.sleep(2)
        return ready, mib(proc.pid, "VmRSS")
    finally:
        proc.terminate()
        proc.wait(timeout=35)


def demo(binary, url, quick):
    """Times `secondmile demo` on an empty database (in quick mode, with 2 visits per store
    instead of about 75); answers seconds."""
    env = dict(os.environ, DATABASE_URL=url, SECONDMILE_LOG="warn")
    small = ["--visits-per-store", "2"] if quick else []
    began = time.perf_counter()
    subprocess.run([binary, "demo", "--password", "bench demo password 1", *small], env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - began


def run(binary, quick):
    runs = 2 if quick else 5
    lines = ["## Start-up and memory", "", "| what | SQLite | PostgreSQL |", "|---|---|---|"]
    starts, idles = {"SQLite": [], "PostgreSQL": []}, {"SQLite": [], "PostgreSQL": []}
    demos = {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            ready, idle = cold_start(binary, f"sqlite://{tmp}/cold.db")
            starts["SQLite"].append(ready)
            idles["SQLite"].append(idle)
        scratch = scratch_postgres(pg_server())
        if scratch:
            url, drop = scratch
            try:
                ready, idle = cold_start(binary, url)
                starts["PostgreSQL"].append(ready)
                idles["PostgreSQL"].append(idle)
            finally:
                drop()
    with tempfile.TemporaryDirectory() as tmp:
        demos["SQLite"] = demo(binary, f"sqlite://{tmp}/demo.db", quick)
    scratch = scratch_postgres(pg_server())
    if scratch:
        url, drop = scratch
        try:
            demos["PostgreSQL"] = demo(binary, url, quick)
        finally:
            drop()

    def cell(values, fmt):
        return fmt(statistics.median(values)) if values else "skipped"

    lines.append(f"| cold start to /readyz, empty database (median of {runs}) | "
                 + " | ".join(cell(starts[b], lambda v: f"{v * 1000:.0f} ms") for b in ("SQLite", "PostgreSQL")) + " |")
    lines.append("| idle RSS after start | "
                 + " | ".join(cell(idles[b], lambda v: f"{v:.0f} MiB") for b in ("SQLite", "PostgreSQL")) + " |")
    lines.append("| `secondmile demo` | "
                 + " | ".join(f"{demos[b]:.1f} s" if b in demos else "skipped" for b in ("SQLite", "PostgreSQL")) + " |")
    return lines + [""]

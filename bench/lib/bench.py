"""bench/run's driver: runs the chosen sections against the given binary and writes every
figure, each beside its baseline from the same run, to bench/results/latest.md."""

import argparse
import datetime
import os
import platform
import subprocess
import sys

from harness import each_backend
import ingest
import longpoll
import startup
import hq
import statements

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECTIONS = ("ingest", "longpoll", "startup", "hq", "statements")


def command(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not found"


def wrk_version():
    """wrk prints its version with its usage and exits 1."""
    try:
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    except OSError:
        return "wrk not found"
    return (out.stdout or out.stderr).splitlines()[0].split(" [")[0] if (out.stdout or out.stderr) else "wrk ?"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    pg = os.environ.get("SECONDMILE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    return [
        f"- when: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; commit "
        f"{command('git', '-C', ROOT, 'rev-parse', '--short', 'HEAD')}",
        f"- machine: {os.cpu_count()} cores ({cpu}), {mem:,} MiB, {platform.system()} {platform.release()}",
        f"- {command('rustc', '--version')}; PostgreSQL {command('psql', pg, '-qAtXc', 'SHOW server_version')}; "
        f"SQLite (the server's, bundled) and Python's {__import__('sqlite3').sqlite_version}; "
        f"{wrk_version()}",
    ]


def main():
    # Loopback TLS only adds work to both sides of every comparison: the server and the
    # baselines connect without it unless told otherwise.
    os.environ.setdefault("SECONDMILE_BENCH_POSTGRES_URL",
                          "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "latest.md"))
    args = parser.parse_args()
    chosen = [s for s in args.sections.split(",") if s]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        sys.exit(f"unknown sections {unknown}; known: {', '.join(SECTIONS)}")
    lines = ["# bench/run results", "", *machine(),
             f"- mode: {'quick (tiny sizes: proves the harness runs, figures mean little)' if args.quick else 'full'}",
             ""]
    for section in chosen:
        print(f"== {section}", flush=True)
        first = len(lines)
        if section == "ingest":
            results = each_backend(lambda label, url, path: ingest.run(args.binary, label, url, path, args.quick),
                                   "bench.db")
            lines += ingest_table(results)
        elif section == "longpoll":
            results = each_backend(lambda label, url, path: longpoll.run(args.binary, label, url, args.quick),
                                   "bench.db")
            lines += longpoll.table(results)
        elif section == "startup":
            lines += startup.run(args.binary, args.quick)
        elif section == "statements":
            results = each_backend(lambda label, url, path: statements.run(args.binary, label, url, args.quick),
                                   "bench.db")
            lines += statements.table(results)
        elif section == "hq":
            lines += hq.run(args.binary, os.environ["SECONDMILE_BENCH_POSTGRES_URL"], args.quick)
        print("\n".join(lines[first:]), flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"written to {args.out}")


def ingest_table(results):
    lines = ["## Ingest", "",
             "Shoppers post unique valid reports (about 5 KB) through the API; the floor writes the rows one "
             "report leaves (report, transition, event) in one transaction straight to the database, in the "
             "same run (PostgreSQL: pgbench at the same concurrency; SQLite: one writer, WAL, "
             "synchronous=FULL).", ""]
    for r in results:
        counts = r["counts"]
        lines += [f"### {r['label']}", "",
                  "| concurrency | " + " | ".join(str(c) for c in counts) + " |",
                  "|---|" + "---|" * len(counts)]
        api = r["api"]
        lines.append("| API reports/s | " + " | ".join(f"{api[c]['rate']:,.0f}" for c in counts) + " |")
        for p in ("p50", "p95", "p99"):
            lines.append(f"| API {p} ms | " + " | ".join(f"{api[c][p]:.1f}" for c in counts) + " |")
        lines.append("| refused or failed | " + " | ".join(str(api[c]["bad"]) for c in counts) + " |")
        if r["batched"] is None:
            floor = r["floor"]
            lines.append("| durable floor tx/s | " + " | ".join(f"{floor[c]:,.0f}" for c in counts) + " |")
            lines.append("| API / floor | " + " | ".join(f"{api[c]['rate'] / floor[c]:.0%}" for c in counts) + " |")
        else:
            single = r["floor"]
            lines.append(f"| direct, one transaction per report (reports/s) | {single:,.0f}" + " |" * len(counts))
            lines.append(f"| direct, 100 reports per transaction (reports/s) | {r['batched']:,.0f}" + " |" * len(counts))
            lines.append("| API / batched | " + " | ".join(f"{api[c]['rate'] / r['batched']:.0%}" for c in counts) + " |")
        lines += ["", f"Server RSS after the runs {r['rss_after']:.0f} MiB, peak {r['peak']:.0f} MiB.", ""]
    return lines


if __name__ == "__main__":
    main()

"""The server under test: the binary started on a database, its memory read from /proc."""

import os
import subprocess

from harness import Api, expect, free_port, start


def mib(pid, field):
    """A memory figure of process `pid` from /proc (VmRSS now, VmHWM its peak), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """`secondmile serve` on `url`, stopped by `stop()` (which answers the peak RSS)."""

    def __init__(self, binary, url, extra_env=None):
        self.binary, self.url, self.port = binary, url, free_port()
        saved = dict(os.environ)
        os.environ.update(extra_env or {})
        try:
            self.proc = start(binary, url, self.port)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def rss(self):
        return mib(self.proc.pid, "VmRSS")

    def peak(self):
        return mib(self.proc.pid, "VmHWM")

    def api(self, token=None):
        return Api(self.port, token)

    def stop(self):
        peak = self.peak()
        self.proc.terminate()
        self.proc.wait(timeout=35)
        return peak


def shoppers(server, admin_token, count, password):
    """Creates `count` shoppers and signs each in; answers their access tokens."""
    admin = server.api(admin_token)
    tokens = []
    for i in range(count):
        email = f"shopper-{i}@bench.example.test"
        expect(admin.call("POST", "/api/v1/users", {
            "email": email, "display_name": f"Shopper {i}", "role": "shopper", "password": password,
        }), 201, f"create shopper {i}")
        signed = expect(server.api().call("POST", "/api/v1/auth/token", {
            "grant_type": "password", "username": email, "password": password,
        }), 200, f"sign shopper {i} in")
        tokens.append(signed["access_token"])
    return tokens


def psql(url, sql):
    """Runs `sql` with psql on `url`; answers its unaligned output."""
    return subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()

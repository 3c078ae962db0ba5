"""Rolling restart: HAProxy (Debian's package) in front of two `secondmile serve` processes on
one PostgreSQL database. Shoppers' apps post reports, a reviewer approves them, two feed
readers long-poll the events and a webhook receiver takes every delivery, all through the
load balancer and with the retries the README tells apps to make (network errors, 408, 429
and 5xx again after 1 s, 2 s, 4 s ... with jitter, honouring Retry-After; every other answer
is final). Meanwhile each instance in turn is stopped with SIGTERM, waited for and started
again. Then it counts: every acknowledged report is there and none twice, every request was
answered successfully within those retries, each event reached the receiver exactly once
and every feed reader saw every event in order, each stop exited 0, and `secondmile rollups
verify` is clean.

Usage: scripts/rolling-restart [ROUNDS] [--debug]   (run by that script, which builds the
binary and passes it and ROUNDS here)."""

import http.client, http.server, json, os, random, signal, subprocess, sys, tempfile, threading, time
from harness import Api, count_reports, expect, feed_ids, free_port, report, scratch_postgres, setup, start

ATTEMPTS = 6  # the first try and five retries: 1 + 2 + 4 + 8 + 16 s of back-off at most


class Client:
    """An app's connection through the load balancer, retrying as the README says."""

    def __init__(self, port, token):
        self.port, self.token, self.api = port, token, Api(port, token)
        self.retried = 0

    def call(self, method, path, body=None, timeout=30):
        """(status, body, attempts) of the first final answer; (None, error, attempts) when the
        retries ran out."""
        delay = 1.0
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self.api.conn.timeout = timeout
                status, answer = self.api.call(method, path, body)
            except (OSError, http.client.HTTPException, json.JSONDecodeError) as e:
                self.api = Api(self.port, self.token)
                status, answer, wait = None, repr(e), delay
            else:
                if status not in (408, 429) and status < 500:
                    return status, answer, attempt
                wait = delay
            if attempt == ATTEMPTS:
                return None, f"{status}: {answer}", attempt
            self.retried += 1
            time.sleep(wait * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 60)
        return None, "unreachable", ATTEMPTS


HAPROXY = """global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A connection refused by an instance that is stopping is tried again, on the other.
    retries 3
    option redispatch 1
    retry-on conn-failure
frontend api
    bind 127.0.0.1:{front}
    default_backend secondmile
backend secondmile
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 1 rise 2
    server a 127.0.0.1:{a} check
    server b 127.0.0.1:{b} check
"""


def main():
    binary, rounds = sys.argv[1], int(sys.argv[2])
    server = os.environ.get("SECONDMILE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    scratch = scratch_postgres(server)
    if scratch is None:
        print(f"rolling restart: PostgreSQL at {server} is unreachable")
        sys.exit(1)
    database_url, drop = scratch
    storage = tempfile.mkdtemp(prefix="secondmile-rolling-files-")
    os.environ.update(SECONDMILE_WEBHOOK_ALLOW_HTTP="true", SECONDMILE_WEBHOOK_ALLOW_PRIVATE="true",
                      SECONDMILE_WEBHOOK_POLL_MS="50", SECONDMILE_WEBHOOK_RETRY_BASE_MS="200",
                      SECONDMILE_STORAGE_URL=f"file://{storage}")
    ports = {"a": free_port(), "b": free_port()}
    front = free_port()
    procs, haproxy = {}, None
    try:
        procs["a"] = start(binary, database_url, ports["a"])
        procs["b"] = start(binary, database_url, ports["b"])
        config = os.path.join(storage, "haproxy.cfg")
        with open(config, "w") as f:
            f.write(HAPROXY.format(front=front, a=ports["a"], b=ports["b"]))
        haproxy = subprocess.Popen(["haproxy", "-db", "-f", config], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        for _ in range(200):
            try:
                if Api(front).call("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"HAProxy did not answer: {haproxy.stderr.read() if haproxy.poll() is not None else ''}")
        time.sleep(1)  # both instances marked up
        ok = run(binary, database_url, front, procs, ports, rounds)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
        if haproxy is not None:
            haproxy.terminate()
        drop()
    sys.exit(0 if ok else 1)


def run(binary, database_url, front, procs, ports, rounds):
    admin_token, shopper_token, location_id, questionnaire_id = setup(front)

    class Receiver(http.server.BaseHTTPRequestHandler):
        received, lock = {}, threading.Lock()

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            with Receiver.lock:
                Receiver.received[body["id"]] = Receiver.received.get(body["id"], 0) + 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    admin = Api(front, admin_token)
    feed_start = expect(admin.call("GET", "/api/v1/events?limit=500"), 200, "read the feed")["next_cursor"]
    expect(admin.call("POST", "/api/v1/webhooks", {"url": f"http://127.0.0.1:{receiver.server_address[1]}/hook"}),
           201, "create the webhook")

    stop = threading.Event()
    lock = threading.Lock()
    acknowledged, failures, approved, polls, seen = set(), [], [0], [0], {0: [], 1: []}
    clients = []

    def shopper():
        client = Client(front, shopper_token)
        clients.append(client)
        while not stop.is_set():
            body = report(location_id, questionnaire_id)
            status, answer, _ = client.call("POST", "/api/v1/reports", body)
            with lock:
                if status in (200, 201):
                    acknowledged.add(body["id"])
                else:
                    failures.append(f"POST /reports: {status} {answer}")

    def reviewer():
        client = Client(front, admin_token)
        clients.append(client)
        while not stop.is_set():
            status, page, _ = client.call("GET", "/api/v1/reports?status=submitted&limit=20")
            if status != 200:
                with lock:
                    failures.append(f"GET /reports: {status} {page}")
                continue
            for item in page["items"]:
                path = f"/api/v1/reports/{item['id']}/review"
                status, answer, attempts = client.call("POST", path, {"action": "approve", "revision": item["revision"]})
                # A retry of an approval whose answer was lost finds it approved: done.
                done = status == 200 or (status == 409 and attempts > 1 and answer.get("current_status") == "approved")
                with lock:
                    if done:
                        approved[0] += 1
                    else:
                        failures.append(f"approve: {status} {answer}")
            time.sleep(0.05)

    def reader(n):
        client = Client(front, admin_token)
        clients.append(client)
        cursor = feed_start
        while not stop.is_set():
            status, page, _ = client.call("GET", f"/api/v1/events?after={cursor}&limit=100&wait=5", timeout=40)
            with lock:
                if status != 200:
                    failures.append(f"long-poll: {status} {page}")
                    continue
                polls[0] += 1
                seen[n] += [e["id"] for e in page["items"]]
            cursor = page["next_cursor"]

    threads = [threading.Thread(target=shopper) for _ in range(4)] + [threading.Thread(target=reviewer)] + \
        [threading.Thread(target=reader, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    exits, stops = [], []
    try:
        time.sleep(2)
        for _ in range(rounds):
            for name in ("a", "b"):
                began = time.time()
                procs[name].send_signal(signal.SIGTERM)
                exits.append(procs[name].wait(timeout=60))
                stops.append(time.time() - began)
                procs[name] = start(binary, database_url, ports[name])
                time.sleep(1.5)  # marked up again before the other one stops
        time.sleep(2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)

    # Every acknowledged report is there, once.
    api = Api(front, admin_token)
    lost = [rid for rid in acknowledged if api.call("GET", f"/api/v1/reports/{rid}")[0] != 200]
    stored = count_reports(api)
    # Every event of the feed reaches the receiver exactly once; each reader saw them in order.
    events = feed_ids(api, feed_start)
    deadline = time.time() + 60
    while time.time() < deadline and not set(events) <= set(Receiver.received):
        time.sleep(0.2)
    with Receiver.lock:
        got = dict(Receiver.received)
    receiver.shutdown()
    undelivered = len(set(events) - set(got))
    invented = len(set(got) - set(events))
    twice = sum(1 for n in got.values() if n > 1)
    readers_in_order = all(ids == events[:len(ids)] for ids in seen.values())
    verify = subprocess.run([binary, "rollups", "verify"], env=dict(os.environ, DATABASE_URL=database_url,
                            SECONDMILE_LOG="warn"), capture_output=True, text=True)
    rollups = "clean" if verify.returncode == 0 else f"DIFFERENT: {verify.stdout[-500:]}{verify.stderr[-500:]}"
    retried = sum(c.retried for c in clients)
    ok = (not lost and stored == len(acknowledged) and not failures and not undelivered and not invented
          and not twice and readers_in_order and all(code == 0 for code in exits) and rollups == "clean"
          and acknowledged and approved[0] and polls[0])
    print(f"PostgreSQL, two instances behind HAProxy, {len(exits)} rolling restarts (SIGTERM, exit codes "
          f"{sorted(set(exits))}, longest stop {max(stops):.1f} s): {len(acknowledged)} reports acknowledged, "
          f"{len(lost)} lost, {stored - len(acknowledged)} duplicated, {approved[0]} approved, {polls[0]} long-polls "
          f"answered, {retried} retries, {len(failures)} requests failed after their retries"
          f"{(' ' + str(failures[:3])) if failures else ''}, {len(events)} events, {undelivered} undelivered, "
          f"{twice} delivered twice, {invented} invented, feed readers in order: {readers_in_order}, "
          f"rollups {rollups}: {'OK' if ok else 'FAILED'}")
    return ok


if __name__ == "__main__":
    main()

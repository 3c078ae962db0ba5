"""Crash check: clients post reports, upload their photos (each twice at once), and three
reviewers race to approve the same reports while the server is killed with SIGKILL, then the server restarts on the same database. Every
report and photo that was acknowledged (201 or 200) must be there, retrying every report
and upload whose answer was lost must store it exactly once, every attachment row must have
its file (downloadable, with its SHA-256), and after `secondmile attachments sweep` every
stored file must have its row (no orphan, no staging file); `secondmile rollups verify`
must find the aggregates equal to a recomputation, and the database must pass SQLite's
integrity_check or PostgreSQL's pg_amcheck. A webhook receiver on 127.0.0.1 (slow, and
failing one answer in five) gets every event while the server is killed: after the last
restart every committed event of the feed must arrive at least once, signed, and nothing the
feed lacks may arrive. Runs on SQLite and, when reachable, PostgreSQL.
Usage: scripts/crash-check [ROUNDS] [--debug]   (--debug: the debug build, as in CI)

Run by scripts/crash-check, which builds the binary and passes the arguments."""

import base64, glob, hashlib, hmac, http.server, json, os, random, shutil, signal, sqlite3, subprocess, sys, tempfile, threading, time, uuid
from harness import Api, count_reports, download, each_backend, feed_ids, free_port, jpeg, report, setup, start, upload


def main():
    binary, rounds = sys.argv[1], int(sys.argv[2])
    # pg_amcheck ships with the PostgreSQL server packages, outside PATH on Debian.
    amcheck_bin = shutil.which("pg_amcheck") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_amcheck"))), None)

    os.environ.update(SECONDMILE_WEBHOOK_ALLOW_HTTP="true", SECONDMILE_WEBHOOK_ALLOW_PRIVATE="true",
                      SECONDMILE_WEBHOOK_POLL_MS="50", SECONDMILE_WEBHOOK_RETRY_BASE_MS="200",
                      SECONDMILE_UPLOADS_PER_CALLER="16")

    class Receiver(http.server.BaseHTTPRequestHandler):
        """Records each delivery's id and whether its signature verifies; slow, and answers 500
        one time in five."""
        secret, received, bad, lock = b"", {}, [0], threading.Lock()

        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            msg, ts = self.headers["webhook-id"], self.headers["webhook-timestamp"]
            mac = hmac.new(Receiver.secret, f"{msg}.{ts}.".encode() + body, hashlib.sha256).digest()
            given = [s.split(",", 1)[1] for s in self.headers["webhook-signature"].split()]
            good = any(hmac.compare_digest(base64.b64encode(mac).decode(), g) for g in given)
            time.sleep(random.uniform(0.01, 0.05))
            fail = random.random() < 0.2
            with Receiver.lock:
                if not good or json.loads(body)["id"] != msg:
                    Receiver.bad[0] += 1
                elif not fail:
                    Receiver.received[msg] = Receiver.received.get(msg, 0) + 1
            self.send_response(500 if fail else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    def check(label, database_url, sqlite_path=None):
        storage_dir = tempfile.mkdtemp(prefix="secondmile-crash-files-")
        os.environ["SECONDMILE_STORAGE_URL"] = f"file://{storage_dir}"
        photos_acknowledged, photos_unanswered = {}, {}
        port = free_port()
        proc = start(binary, database_url, port)
        admin_token, shopper_token, location_id, questionnaire_id = setup(port)
        receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        Receiver.received, Receiver.bad = {}, [0]
        feed_start = Api(port, admin_token).call("GET", "/api/v1/events?limit=500")[1]["next_cursor"]
        _, hook = Api(port, admin_token).call("POST", "/api/v1/webhooks",
                                              {"url": f"http://127.0.0.1:{receiver.server_address[1]}/hook"})
        Receiver.secret = base64.b64decode(hook["secret"].removeprefix("whsec_"))
        acknowledged, unanswered, lock = {}, {}, threading.Lock()
        approved = [0]
        for round_no in range(rounds):
            stop = threading.Event()
            def reviewer():
                api = Api(port, admin_token)
                while not stop.is_set():
                    try:
                        status, page = api.call("GET", "/api/v1/reports?status=submitted&limit=20")
                        for item in page.get("items", []) if status == 200 else []:
                            s, _ = api.call("POST", f"/api/v1/reports/{item['id']}/review",
                                            {"action": "approve", "revision": item["revision"]})
                            if s == 200:
                                with lock:
                                    approved[0] += 1
                    except OSError:
                        return
            def worker():
                api = Api(port, shopper_token)
                while not stop.is_set():
                    body = report(location_id, questionnaire_id)
                    photo = str(uuid.uuid4())
                    body["answers"].append({"question": "storefront_photo", "value": photo})
                    try:
                        status, _ = api.call("POST", "/api/v1/reports", body)
                    except OSError:
                        with lock:
                            unanswered[body["id"]] = body
                        return
                    with lock:
                        if status in (200, 201):
                            acknowledged[body["id"]] = body
                        else:
                            unanswered[body["id"]] = body
                            continue
                    upload_of = (body["id"], photo, jpeg(random.getrandbits(63)))
                    # The same photo twice at once (an app retrying too early): stored once.
                    answers = []
                    def send():
                        try:
                            answers.append(upload(port, shopper_token, *upload_of)[0])
                        except OSError:
                            answers.append(None)
                    twice = [threading.Thread(target=send) for _ in range(2)]
                    for t in twice: t.start()
                    for t in twice: t.join()
                    with lock:
                        stored = any(a in (200, 201) for a in answers)
                        (photos_acknowledged if stored else photos_unanswered)[photo] = upload_of
                    if None in answers:
                        return
            threads = [threading.Thread(target=worker) for _ in range(4)] + \
                [threading.Thread(target=reviewer) for _ in range(3)]
            for t in threads: t.start()
            time.sleep(random.uniform(0.5, 1.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stop.set()
            for t in threads: t.join()
            proc = start(binary, database_url, port)
        # Every acknowledged report survived.
        api = Api(port, admin_token)
        lost = [rid for rid in acknowledged if api.call("GET", f"/api/v1/reports/{rid}")[0] != 200]
        # Retrying what got no answer stores each at most once: 201 (was lost before commit) or 200.
        shopper = Api(port, shopper_token)
        retried = [shopper.call("POST", "/api/v1/reports", body)[0] for body in unanswered.values()]
        # Photos: retrying what got no answer stores each once; every acknowledged one downloads.
        retried += [upload(port, shopper_token, *u)[0] for u in photos_unanswered.values()]
        bad_retries = [s for s in retried if s not in (200, 201)]
        lost += [pid for pid in photos_acknowledged if download(port, admin_token, pid)[0] != 200]
        # Every row has its file, with the digest the row names.
        rows = {}
        for rid in set(acknowledged) | set(unanswered):
            s, listing = api.call("GET", f"/api/v1/reports/{rid}/attachments")
            for item in (listing or {}).get("received", []) if s == 200 else []:
                rows[item["id"]] = item["sha256"]
        rows_without_file = []
        for aid, sha in rows.items():
            s, data = download(port, admin_token, aid)
            if s != 200 or hashlib.sha256(data).hexdigest() != sha:
                rows_without_file.append(aid)
        total = count_reports(api)
        expected = len(set(acknowledged) | set(unanswered))
        # Every committed event reaches the receiver (at least once), and nothing else does.
        events = feed_ids(api, feed_start)
        deadline = time.time() + 120
        while time.time() < deadline and not set(events) <= set(Receiver.received):
            time.sleep(0.2)
        with Receiver.lock:
            got = dict(Receiver.received)
        undelivered = set(events) - set(got)
        invented = set(got) - set(events)
        redelivered = sum(n - 1 for n in got.values())
        receiver.shutdown()
        proc.terminate()
        proc.wait(timeout=35)
        # The aggregates equal a recomputation from the released reports.
        verify = subprocess.run([binary, "rollups", "verify"], env=dict(os.environ, DATABASE_URL=database_url,
                                SECONDMILE_LOG="warn"), capture_output=True, text=True)
        rollups = "clean" if verify.returncode == 0 else f"DIFFERENT: {verify.stdout[-500:]}{verify.stderr[-500:]}"
        # The sweep removes files whose row was never written; then every file has its row.
        sweep = subprocess.run([binary, "attachments", "sweep", "--older-than", "0"],
                               env=dict(os.environ, DATABASE_URL=database_url, SECONDMILE_LOG="warn"),
                               capture_output=True, text=True)
        swept = sum(1 for line in sweep.stdout.splitlines() if line.startswith("deleted "))
        files_without_row = []
        for path in glob.glob(f"{storage_dir}/**/*", recursive=True):
            if os.path.isdir(path):
                continue
            parts = os.path.relpath(path, storage_dir).split(os.sep)
            if len(parts) != 5 or rows.get(parts[3]) != parts[4]:
                files_without_row.append(os.path.relpath(path, storage_dir))
        shutil.rmtree(storage_dir, ignore_errors=True)
        if sqlite_path:
            integrity = sqlite3.connect(sqlite_path).execute("PRAGMA integrity_check").fetchone()[0]
        elif amcheck_bin:
            amcheck = subprocess.run([amcheck_bin, "--install-missing", "--heapallindexed", database_url],
                                     capture_output=True, text=True)
            integrity = "ok" if amcheck.returncode == 0 else f"pg_amcheck: {amcheck.stdout[-500:]}{amcheck.stderr[-500:]}"
        else:
            integrity = "not checked (no pg_amcheck)"
        duplicated = max(0, total - expected)
        ok = (not lost and not bad_retries and total == expected and rollups == "clean"
              and integrity in ("ok", "not checked (no pg_amcheck)") and sweep.returncode == 0
              and not rows_without_file and not files_without_row and not undelivered and not invented
              and Receiver.bad[0] == 0 and events)
        print(f"{label}: {rounds} SIGKILLs, {len(acknowledged)} acknowledged, {approved[0]} approved, {len(lost)} lost, "
              f"{duplicated} duplicated, {len(unanswered)} unanswered retried ({sorted(set(retried))}), "
              f"{total} stored of {expected} distinct ids, {len(photos_acknowledged)} photos acknowledged, "
              f"{len(rows)} stored, {len(rows_without_file)} rows without their file, {swept} orphan files swept, "
              f"{len(files_without_row)} files without a row after the sweep{(' ' + str(files_without_row[:3])) if files_without_row else ''}, "
              f"{len(events)} events, {len(undelivered)} undelivered, {len(invented)} invented, "
              f"{redelivered} delivered again, {Receiver.bad[0]} badly signed, "
              f"rollups {rollups}, integrity {integrity}: {'OK' if ok else 'FAILED'}")
        return ok

    results = each_backend(check, "crash.db")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()

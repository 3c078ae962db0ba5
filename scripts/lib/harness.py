"""Shared helpers of the benchmark and crash scripts: start the release binary, set up an
organization with a location, the published example questionnaire and a shopper, and build
valid reports."""

import datetime
import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
import uuid

EMAIL, PASSWORD = "bench@example.test", "benchmark passphrase 1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = json.load(open(os.path.join(ROOT, "examples", "questionnaire.json")))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """A keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port, token=None):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.token = token

    def call(self, method, path, body=None):
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def start(binary, database_url, port):
    """Starts `secondmile serve` and waits until it is ready."""
    env = dict(os.environ, DATABASE_URL=database_url, SECONDMILE_BIND=f"127.0.0.1:{port}", SECONDMILE_LOG="warn",
               SECONDMILE_LOGIN_RATE_PER_IP="100000", SECONDMILE_LOGIN_RATE_PER_ACCOUNT="100000",
               SECONDMILE_SHOPPER_DAILY_REPORTS="1000000",
               SECONDMILE_BOOTSTRAP_ORG="Bench", SECONDMILE_BOOTSTRAP_ADMIN_EMAIL=EMAIL,
               SECONDMILE_BOOTSTRAP_ADMIN_PASSWORD=PASSWORD)
    env.pop("SECONDMILE_JWT_SECRET", None)
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if Api(port).call("GET", "/readyz")[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not become ready")


def expect(answer, status, what):
    """The body of an answer that must have `status`; stops the run with what went wrong."""
    got, body = answer
    if got != status:
        raise RuntimeError(f"{what}: expected {status}, got {got}: {body}")
    return body


def setup(port):
    """Creates the location, questionnaire and shopper; returns (admin token, shopper token,
    location id, questionnaire id). Every step must succeed."""
    sign_in = {"grant_type": "password", "username": EMAIL, "password": PASSWORD}
    tokens = expect(Api(port).call("POST", "/api/v1/auth/token", sign_in), 200, "admin sign-in")
    admin = Api(port, tokens["access_token"])
    location = expect(admin.call("POST", "/api/v1/locations", {
        "code": "B-1", "name": "Bench", "timezone": "Europe/Lisbon", "latitude": 38.7111, "longitude": -9.1421,
    }), 201, "create the location")
    q = expect(admin.call("POST", "/api/v1/questionnaires", dict(EXAMPLE, key="bench")), 201, "create the questionnaire")
    expect(admin.call("POST", f"/api/v1/questionnaires/{q['id']}/publish"), 200, "publish the questionnaire")
    expect(admin.call("POST", "/api/v1/users", {
        "email": "shopper@example.test", "display_name": "S", "role": "shopper", "password": PASSWORD,
    }), 201, "create the shopper")
    shopper = expect(Api(port).call("POST", "/api/v1/auth/token", {
        "grant_type": "password", "username": "shopper@example.test", "password": PASSWORD,
    }), 200, "shopper sign-in")
    return tokens["access_token"], shopper["access_token"], location["id"], q["id"]


def report(location_id, questionnaire_id):
    """A valid report of about 5 KB with a fresh id."""
    start_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    answers = [("greeted", True), ("eye_contact", True), ("smiled", True), ("on_phone", False),
               ("courtesy", 4), ("appearance", True), ("wait_time", 120), ("had_issue", "no"),
               ("purchase_smooth", True), ("clean_inside", 5), ("clean_outside", True),
               ("remembered_name", True), ("unexpressed_need", False), ("companion", "alone"),
               ("follow_up", False), ("beyond_task", False), ("highlights", "Friendly and quick. " * 10)]
    return {"id": str(uuid.uuid4()), "location_id": location_id, "questionnaire_id": questionnaire_id,
            "visit": {"started_at": start_at.isoformat(), "ended_at": (start_at + datetime.timedelta(minutes=15)).isoformat()},
            "answers": [{"question": q, "value": v} for q, v in answers],
            "narrative": "A realistic narrative of the visit. " * 20,
            "check_in": {"lat": 38.7111, "lon": -9.1421, "accuracy_m": 10, "at": start_at.isoformat()},
            "client": {"app": "bench", "version": "1.0"}}


def count_reports(api):
    """How many reports the organization holds, read page by page."""
    total, cursor = 0, None
    while True:
        _, page = api.call("GET", "/api/v1/reports?limit=200" + (f"&cursor={cursor}" if cursor else ""))
        total += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return total


def feed_ids(api, after):
    """The ids of the feed's events after the cursor `after`, in order."""
    ids, cursor = [], after
    while True:
        _, page = api.call("GET", f"/api/v1/events?after={cursor}&limit=500")
        ids += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return ids


def scratch_postgres(server):
    """Creates a scratch database on `server`; returns (url, drop function) or None."""
    name = f"secondmile_bench_{uuid.uuid4().hex[:12]}"
    try:
        subprocess.run(["psql", server, "-qc", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    base, _, options = server.partition("?")
    base = base.rsplit("/", 1)[0]
    options = f"?{options}" if options else ""

    def drop():
        subprocess.run(["psql", server, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)

    return f"{base}/{name}{options}", drop


def jpeg(seed):
    """A small valid JPEG whose EXIF names a GPS position; `seed` varies its bytes."""
    def segment(marker, body):
        return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body
    return (b"\xFF\xD8" + segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
            + segment(0xE1, b"Exif\0\0GPSLatitude 38.7111 N SerialNumber 4411")
            + segment(0xDB, bytes([7]) * 65) + segment(0xDA, bytes([1, 1, 0, 0, 0x3F, 0]))
            + seed.to_bytes(8, "big").replace(b"\xFF", b"\x00") + b"\xFF\xD9")


def upload(port, token, report_id, attachment_id, body, timeout=30):
    """PUTs a photo; returns (status, parsed body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("PUT", f"/api/v1/reports/{report_id}/attachments/{attachment_id}", body=body,
                 headers={"content-type": "image/jpeg", "authorization": f"Bearer {token}"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, (json.loads(data) if data else None)


def download(port, token, attachment_id):
    """GETs a file; returns (status, bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"/api/v1/attachments/{attachment_id}", headers={"authorization": f"Bearer {token}"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def each_backend(run, db_file):
    """Runs `run(label, database_url, sqlite_path)` on a fresh SQLite file, then on a scratch
    PostgreSQL database of SECONDMILE_BENCH_POSTGRES_URL (skipped, and said so, when that
    server is unreachable; `sqlite_path` is then None); answers the results."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, db_file)
        results.append(run("SQLite", f"sqlite://{path}", path))
    server = os.environ.get("SECONDMILE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    scratch = scratch_postgres(server)
    if scratch is None:
        print("PostgreSQL: skipped (server unreachable)")
    else:
        url, drop = scratch
        try:
            results.append(run("PostgreSQL", url, None))
        finally:
            drop()
    return results

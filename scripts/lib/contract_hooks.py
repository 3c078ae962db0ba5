"""Schemathesis hooks for scripts/contract-check.

1. The accounts the check signs in with are never the target of a user or client operation,
   so the fuzzer cannot demote, deactivate or re-password itself (or revoke the client it runs
   as) and lock the rest of the run out. Such a call is made on a decoy account or client of
   the same kind instead, created for the run.

2. The happy path. Random data almost never makes a valid visit report (its answers must fit a
   published questionnaire), a valid questionnaire or a wave, so the stateful phase would never
   get past the create operations and never follow a link. In the stateful phase, most cases
   that Schemathesis generated as valid data (never the deliberately invalid ones) of the
   operations below are given a body built from the demo organization's facts
   (CONTRACT_FACTS, written by the check's set-up): a report for a demo location on the
   published questionnaire, a location with a fresh code, a user with a fresh email, a
   questionnaire with a fresh key, a wave, a webhook, a review decision. Schemathesis is told
   that these operations make good first steps of a scenario (`_is_likely_root`). Every
   answer is still checked against the document like any other; the other phases are
   untouched.

3. The shopper's stateful run is a shopper whose reports are decided by a reviewer: review
   calls carry the reviewer's token, so one scenario can go create -> read -> review (return)
   -> revise -> review (approve) -> history.
"""

import copy
import datetime
import json
import os
import random
import uuid

import schemathesis
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase

PROTECTED = {i for i in os.environ.get("CONTRACT_PROTECTED_IDS", "").split(",") if i}
PRINCIPAL = os.environ.get("CONTRACT_PRINCIPAL", "")
# The shopper's stateful run: a shopper's calls, decisions by a reviewer.
WORKFLOW = PRINCIPAL == "shopper" and os.environ.get("CONTRACT_PHASES") == "stateful"
FACTS = {}
if os.environ.get("CONTRACT_FACTS"):
    with open(os.environ["CONTRACT_FACTS"], encoding="utf-8") as facts_file:
        FACTS = json.load(facts_file)

# How often a valid stateful case gets a happy-path body; the rest stay as generated.
HAPPY_SHARE = 0.8
API = "/api/v1"
# The bodies of the reports this run submitted, by id, for their revisions.
SUBMITTED = {}


def _is_valid_stateful(case):
    meta = case._meta
    return (
        meta is not None
        and meta.phase.name == TestPhase.STATEFUL
        and meta.generation.mode == GenerationMode.POSITIVE
    )


def _fresh():
    return uuid.uuid4().hex[:12]


def _report(case, rng):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    started = now - datetime.timedelta(hours=rng.randint(2, 24 * 20))
    body = {
        "id": str(uuid.uuid4()),
        "location_id": rng.choice(FACTS["location_ids"]),
        "questionnaire_id": FACTS["questionnaire_id"],
        "visit": {
            "started_at": started.isoformat(),
            "ended_at": (started + datetime.timedelta(minutes=rng.randint(5, 60))).isoformat(),
        },
        "answers": copy.deepcopy(FACTS["answers"]),
        "narrative": "Contract check visit " + _fresh(),
    }
    if PRINCIPAL == "client":
        body["shopper_id"] = FACTS["shopper_id"]
    SUBMITTED[body["id"]] = body
    return body


def _revision(case, rng):
    report_id = (case.path_parameters or {}).get("id")
    original = SUBMITTED.get(report_id)
    if original is None:
        return None
    body = copy.deepcopy(original)
    body["narrative"] = "Revised after review " + _fresh()
    return body


def _review(case, rng):
    action = rng.choices(["approve", "return", "reject"], weights=[3, 6, 1])[0]
    return {"action": action, "note": "Contract check decision " + _fresh()}


def _location(case, rng):
    return {
        "code": "CC-" + _fresh(),
        "name": "Contract check store " + _fresh(),
        "timezone": rng.choice(["Europe/Lisbon", "America/New_York", "Asia/Tokyo", "UTC"]),
        "region": rng.choice(FACTS["regions"]),
        "tags": ["contract-check"],
    }


def _user(case, rng):
    return {
        "email": f"cc-{_fresh()}@hearth-home.example",
        "display_name": "Contract check user",
        "role": rng.choice(["shopper", "reviewer", "analyst", "manager", "admin"]),
        "password": "contract check passphrase",
    }


def _questionnaire(case, rng):
    body = copy.deepcopy(FACTS["questionnaire_example"])
    body["key"] = "cc-" + _fresh()
    return body


def _version(case, rng):
    body = copy.deepcopy(FACTS["questionnaire_example"])
    body.pop("key", None)
    return body


def _wave(case, rng):
    starts = datetime.date.today() + datetime.timedelta(days=rng.randint(1, 60))
    return {
        "name": "Contract check wave " + _fresh(),
        "starts_on": starts.isoformat(),
        "ends_on": (starts + datetime.timedelta(days=rng.randint(0, 60))).isoformat(),
        "questionnaire_key": FACTS["questionnaire_key"],
        "region": rng.choice(FACTS["regions"]),
        "visits_per_location": rng.randint(1, 2),
    }


def _locations_list(case, rng):
    return {"location_ids": rng.sample(FACTS["location_ids"], k=rng.randint(1, 3))}


def _webhook(case, rng):
    return {"url": FACTS["webhook_url"], "description": "Contract check " + _fresh()}


BUILDERS = {
    ("POST", f"{API}/reports"): _report,
    ("PUT", f"{API}/reports/{{id}}"): _revision,
    ("POST", f"{API}/reports/{{id}}/review"): _review,
    ("POST", f"{API}/locations"): _location,
    ("POST", f"{API}/users"): _user,
    ("POST", f"{API}/questionnaires"): _questionnaire,
    ("POST", f"{API}/questionnaires/{{key}}/versions"): _version,
    ("POST", f"{API}/waves"): _wave,
    ("PUT", f"{API}/users/{{id}}/locations"): _locations_list,
    ("PUT", f"{API}/users/{{id}}/excluded-locations"): _locations_list,
    ("POST", f"{API}/webhooks"): _webhook,
}


if FACTS:
    # Schemathesis ranks a create operation as an unlikely start of a scenario when its inputs
    # name a resource it sees no operation produce; it does not pair `location_id` with
    # `LocationResponse`, so POST /reports and /waves would never start one while other
    # creates exist. With bodies from the demo's facts they are likely to succeed.
    import schemathesis.specs.openapi.stateful as stateful

    _likely_root = stateful.is_likely_root_transition

    def _is_likely_root(operation, node, produced_anywhere):
        return (operation.method.upper(), operation.path) in BUILDERS or _likely_root(
            operation, node, produced_anywhere
        )

    stateful.is_likely_root_transition = _is_likely_root


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters or {}
    if params.get("id") in PROTECTED:
        # A decoy of the same kind (a real account the fuzzer may change at will), so that the
        # call reaches the same code as with the protected one; a made-up id without facts.
        if "/users/" in case.path:
            params["id"] = FACTS.get("decoy_user_id") or str(uuid.uuid4())
        elif "/integration-clients/" in case.path:
            params["id"] = FACTS.get("decoy_client_id") or str(uuid.uuid4())
    if not FACTS or not _is_valid_stateful(case):
        return
    key = (case.method.upper(), case.path)
    builder = BUILDERS.get(key)
    if builder is None:
        return
    # Choices follow from the generated case, not from a free-running random source: when
    # Hypothesis replays a scenario, the same case must get the same body and so the same
    # answer, or it stops the phase as flaky.
    rng = random.Random(json.dumps([key, case.query, case.body], sort_keys=True, default=str))
    if rng.random() < HAPPY_SHARE:
        body = builder(case, rng)
        if body is not None:
            case.body = body
            if key[0] == "POST" and case.path.endswith("/review"):
                # A decision made as soon as the report is read: no precondition.
                (case.headers or {}).pop("If-Match", None)


@schemathesis.hook
def map_headers(context, headers):
    # The shopper's stateful run has no token of its own on the command line: every call is
    # the shopper's, but for decisions, which are the reviewer's.
    if not WORKFLOW or not FACTS:
        return headers
    token = FACTS["reviewer_token"] if context.operation.path.endswith("/review") else FACTS["shopper_token"]
    return {**(headers or {}), "Authorization": f"Bearer {token}"}


@schemathesis.hook
def after_call(context, case, response):
    # CONTRACT_LOG: one line per stateful call (method, path template, status, the start of
    # the answer); scripts/contract-check tallies the successful ones to show how far the
    # scenarios got.
    log = os.environ.get("CONTRACT_LOG")
    if log and case._meta is not None and case._meta.phase.name == TestPhase.STATEFUL:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{case.method.upper()} {case.path} {response.status_code} {response.text[:300]!r}\n")

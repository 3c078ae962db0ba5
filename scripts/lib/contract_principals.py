"""Contract check: Schemathesis (pinned) fuzzes the running API from its own OpenAPI document
against a server loaded with the demo organization, three times: as an admin, as a shopper
and as an integration client with every scope. All four phases run (examples, coverage,
fuzzing, and the stateful phase, which follows the document's links from each create
operation to reads, reviews and revisions, with happy-path bodies from the demo's facts for
the creates; see scripts/lib/contract_hooks.py). It fails on any server error, undocumented
status, wrong content type, response or header not matching the document, wrong answer to an
undeclared method or to a missing token, and more (see CHECKS). The accounts it signs in
with are protected from its own user and client operations (scripts/lib/contract_hooks.py).
Usage: scripts/contract-check [MAX_EXAMPLES]

Run by scripts/contract-check, which builds the binary and passes the arguments."""

import json, socket, sys, time, urllib.request


def main():
    port, password, facts_path = sys.argv[1], sys.argv[2], sys.argv[3]
    base = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    def call(method, path, body=None, token=None):
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        req = urllib.request.Request(base + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        return json.load(urllib.request.urlopen(req))
    def sign_in(email, pw):
        return call("POST", "/api/v1/auth/token", {"grant_type": "password", "username": email, "password": pw})["access_token"]
    demo_admin = sign_in("admin@hearth-home.example", password)
    fuzz_admin = call("POST", "/api/v1/users", {"email": "contract-admin@hearth-home.example", "display_name": "Contract check",
                                                "role": "admin", "password": password}, demo_admin)
    admin = sign_in("contract-admin@hearth-home.example", password)
    shopper = sign_in("shopper1@hearth-home.example", password)
    shopper_id = call("GET", "/api/v1/me", token=shopper)["id"]
    scopes = ["reports:read", "reports:write", "locations:read", "questionnaires:read", "aggregates:read", "events:read"]
    created = call("POST", "/api/v1/integration-clients", {"name": "Contract check", "scopes": scopes}, demo_admin)
    client = call("POST", "/api/v1/auth/token", {"grant_type": "client_credentials", "client_id": created["client_id"],
                                                  "client_secret": created["client_secret"]})["access_token"]
    decoy_user = call("POST", "/api/v1/users", {"email": "contract-decoy@hearth-home.example", "display_name": "Decoy",
                                                "role": "shopper", "password": password}, demo_admin)
    decoy_client = call("POST", "/api/v1/integration-clients", {"name": "Decoy", "scopes": ["reports:read"]}, demo_admin)
    call("PUT", "/api/v1/programme/settings",
         {"lockout_days": None, "max_visits_per_location_per_year": None, "require_assignment": False}, demo_admin)
    locations = call("GET", "/api/v1/locations?limit=200", token=demo_admin)["items"]
    questionnaire = next(q for q in call("GET", "/api/v1/questionnaires", token=demo_admin)["items"]
                         if q["key"] == "store-visit" and q["status"] == "published")
    reports = call("GET", "/api/v1/reports?questionnaire_key=store-visit&limit=1", token=demo_admin)["items"]
    with open("openapi/openapi.json", encoding="utf-8") as document:
        schemas = json.load(document)["components"]["schemas"]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    facts = {
        "location_ids": [l["id"] for l in locations if l.get("active", True)],
        "regions": sorted({l["region"] for l in locations if l.get("region")}),
        "questionnaire_id": questionnaire["id"],
        "questionnaire_key": questionnaire["key"],
        "answers": reports[0]["answers"],
        "shopper_id": shopper_id,
        "questionnaire_example": schemas["CreateQuestionnaireRequest"]["example"],
        # Nothing listens there: deliveries fail and are retried, as to a receiver that is down.
        "webhook_url": f"http://127.0.0.1:{closed.getsockname()[1]}/hook",
        "decoy_user_id": decoy_user["id"],
        "decoy_client_id": decoy_client["client_id"],
        "reviewer_token": sign_in("reviewer@hearth-home.example", password),
        "shopper_token": shopper,
    }
    closed.close()
    with open(facts_path, "w", encoding="utf-8") as out:
        json.dump(facts, out)
    print("shopper", shopper)
    print("client", client)
    print("admin", admin)
    print("protected", ",".join([fuzz_admin["id"], shopper_id, created["client_id"]]))


if __name__ == "__main__":
    main()

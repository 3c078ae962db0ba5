"""Schemathesis hooks for scripts/contract-check: the accounts the check signs in with are
never the target of a user or client operation, so the fuzzer cannot demote, deactivate or
re-password itself (or revoke the client it runs as) and lock the rest of the run out. Such a
call gets a fresh id instead (a 404, checked like any other answer)."""

import os
import uuid

import schemathesis

PROTECTED = {i for i in os.environ.get("CONTRACT_PROTECTED_IDS", "").split(",") if i}


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters or {}
    if params.get("id") in PROTECTED and ("/users/" in case.path or "/integration-clients/" in case.path):
        params["id"] = str(uuid.uuid4())

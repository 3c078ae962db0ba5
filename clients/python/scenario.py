"""A programme's day through the Python client generated from openapi/openapi.json, with no
hand edit, no cast and no `Any` annotation. Checked with `mypy --strict`; exits non-zero on
any surprise.

- HQ sets up: a store (and another from a CSV file), a questionnaire with a conditional
  question and a photo, a shopper, a wave with a visit for that shopper, and a webhook.
- The shopper's app: syncs in one call (and hears 304 when nothing changed), asks which
  stores the rules allow, accepts its visit, submits the report, uploads the photo, reads
  the report's files and downloads the photo whole and by range; after a reviewer returns
  the report, its sync shows the note and it sends a revision, which is approved.
- An integrator: reads the typed event feed with the client-credentials grant, and
  verifies the webhook delivery of the approval with the Standard Webhooks library.

Environment: SECONDMILE_URL, SECONDMILE_ADMIN_EMAIL, SECONDMILE_ADMIN_PASSWORD.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import queue
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

from standardwebhooks.webhooks import Webhook

from secondmile_client import AuthenticatedClient, Client
from secondmile_client.api.aggregates import get_location_summary
from secondmile_client.api.attachments import download_attachment, list_attachments, upload_attachment
from secondmile_client.api.auth import get_me, issue_token
from secondmile_client.api.events import create_webhook, list_events
from secondmile_client.api.integration_clients import create_client
from secondmile_client.api.locations import create_location, import_locations
from secondmile_client.api.programme import (
    accept_assignment,
    add_assignments,
    create_wave,
    list_eligible_locations,
    sync_my_app,
)
from secondmile_client.api.questionnaires import create_questionnaire, publish_questionnaire
from secondmile_client.api.reports import get_report, list_reports, submit_report
from secondmile_client.api.review import get_report_history, review_report, revise_report
from secondmile_client.api.users import create_user
from secondmile_client.models import (
    Answer,
    AssignmentResponse,
    AssignmentStatus,
    AttachmentResponse,
    AttachmentStatus,
    ChoiceOption,
    CreateClientRequest,
    CreatedClientResponse,
    CreateLocationRequest,
    CreateQuestionnaireRequest,
    CreateUserRequest,
    CreateWaveRequest,
    CreateWebhookBody,
    EventTypeName,
    FeedResponse,
    GrantType,
    HistoryResponse,
    ImportReport,
    LocationResponse,
    LocationSummaryResponse,
    MeResponse,
    MileLevel,
    NewAssignment,
    PageEligibleLocation,
    PageReportResponse,
    PrincipalKind,
    Problem,
    Question,
    QuestionnaireResponse,
    QuestionType,
    ReportApprovedEvent,
    ReportResponse,
    ReportStatus,
    ReportSubmission,
    ReviewAction,
    ReviewNote,
    ReviewRequest,
    Role,
    Scope,
    Section,
    ShowIf,
    SyncResponse,
    Tier,
    TokenRequest,
    TokenResponse,
    UserResponse,
    VerdictName,
    Visit,
    WaveResponse,
    WebhookSecretResponse,
)
from secondmile_client.types import File, Response

T = TypeVar("T")

BASE = os.environ["SECONDMILE_URL"]
ADMIN_EMAIL = os.environ["SECONDMILE_ADMIN_EMAIL"]
ADMIN_PASSWORD = os.environ["SECONDMILE_ADMIN_PASSWORD"]


def expect(response: Response[Problem | T], status: HTTPStatus, kind: type[T]) -> T:
    """The parsed body of a response with the expected status and type."""
    body = response.parsed
    if response.status_code != status or not isinstance(body, kind):
        raise SystemExit(
            f"expected {status.value} {kind.__name__}, got {response.status_code}: "
            f"{response.content.decode(errors='replace')}"
        )
    return body


def sign_in(token_request: TokenRequest) -> AuthenticatedClient:
    tokens = expect(
        issue_token.sync_detailed(client=Client(base_url=BASE), body=token_request),
        HTTPStatus.OK,
        TokenResponse,
    )
    return AuthenticatedClient(base_url=BASE, token=tokens.access_token)


def tiny_jpeg() -> bytes:
    """A small JPEG (start, JFIF header, one quantisation table, scan, end) with an EXIF block
    the server removes before storing."""

    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body

    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xE1, b"Exif\x00\x00GPSLatitude 38.7111 N")
        + segment(0xDB, bytes([7] * 65))
        + segment(0xDA, bytes([1, 1, 0, 0, 0x3F, 0]))
        + b"\x12\x34\x56\xff\xd9"
    )


class Deliveries:
    """A webhook receiver on a free local port: each POST's headers and body, in order."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                received.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def next(self) -> tuple[dict[str, str], bytes]:
        return self.received.get(timeout=30)


def main() -> None:
    # Yesterday to a week ahead: the visit an hour ago falls on either day, wherever the clock.
    today = datetime.date.today() - datetime.timedelta(days=1)
    suffix = uuid.uuid4().hex[:8]

    # HQ sets up the programme.
    admin = sign_in(
        TokenRequest(grant_type=GrantType.PASSWORD, username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    )
    me = expect(get_me.sync_detailed(client=admin), HTTPStatus.OK, MeResponse)
    assert me.kind == PrincipalKind.USER and me.role == Role.ADMIN
    location = expect(
        create_location.sync_detailed(
            client=admin,
            body=CreateLocationRequest(
                code=f"PY-{suffix}",
                name="Chiado",
                timezone="Europe/Lisbon",
                region="Lisbon",
                latitude=38.7111,
                longitude=-9.1421,
                tags=["flagship"],
            ),
        ),
        HTTPStatus.CREATED,
        LocationResponse,
    )
    csv = f"code,name,timezone,region\nPY-{suffix}-2,Baixa,Europe/Lisbon,Lisbon\n".encode()
    imported = expect(
        import_locations.sync_detailed(
            client=admin, body=File(payload=io.BytesIO(csv), file_name="stores.csv", mime_type="text/csv")
        ),
        HTTPStatus.OK,
        ImportReport,
    )
    assert imported.created == 1 and imported.skipped == 0

    key = f"py-visit-{suffix}"
    questions = [
        Question(key="greeted", text="Were you greeted?", type_=QuestionType.YES_NO, tier=Tier.FIRST, critical=True),
        Question(key="courtesy", text="How courteous?", type_=QuestionType.SCALE, min_=1, max_=5, tier=Tier.FIRST),
        Question(
            key="had_issue",
            text="Did you raise an issue?",
            type_=QuestionType.SINGLE_CHOICE,
            options=[ChoiceOption(value="yes", label="Yes"), ChoiceOption(value="no", label="No")],
        ),
        Question(
            key="calm",
            text="Was the issue handled calmly?",
            type_=QuestionType.YES_NO,
            tier=Tier.FIRST,
            show_if=ShowIf(question="had_issue", equals=["yes"]),
        ),
        Question(key="remembered_name", text="Were you called by name?", type_=QuestionType.YES_NO, tier=Tier.SECOND),
        Question(key="storefront", text="A photo of the storefront", type_=QuestionType.PHOTO, required=False),
    ]
    draft = expect(
        create_questionnaire.sync_detailed(
            client=admin,
            body=CreateQuestionnaireRequest(
                key=key, title="Store visit", sections=[Section(key="visit", title="The visit", questions=questions)]
            ),
        ),
        HTTPStatus.CREATED,
        QuestionnaireResponse,
    )
    assert draft.sections[0].questions[3].show_if is not None
    published = expect(
        publish_questionnaire.sync_detailed(draft.id, client=admin), HTTPStatus.OK, QuestionnaireResponse
    )

    shopper_email = f"shopper-{suffix}@example.test"
    shopper_password = f"shopper passphrase {suffix}"
    shopper_user = expect(
        create_user.sync_detailed(
            client=admin,
            body=CreateUserRequest(
                email=shopper_email, display_name="Mystery shopper", role=Role.SHOPPER, password=shopper_password
            ),
        ),
        HTTPStatus.CREATED,
        UserResponse,
    )
    wave = expect(
        create_wave.sync_detailed(
            client=admin,
            body=CreateWaveRequest(
                name=f"Spring {suffix}",
                starts_on=today,
                ends_on=today + datetime.timedelta(days=30),
                questionnaire_key=key,
                visits_per_location=1,
            ),
        ),
        HTTPStatus.CREATED,
        WaveResponse,
    )
    planned = add_assignments.sync_detailed(
        wave.id,
        client=admin,
        body=[
            NewAssignment(
                location_id=location.id,
                shopper_id=shopper_user.id,
                visit_from=today,
                visit_to=today + datetime.timedelta(days=7),
            )
        ],
    )
    assert planned.status_code == HTTPStatus.CREATED and isinstance(planned.parsed, list)
    deliveries = Deliveries()
    hook = expect(
        create_webhook.sync_detailed(
            client=admin,
            body=CreateWebhookBody(url=deliveries.url, event_types=[EventTypeName.REPORT_APPROVED]),
        ),
        HTTPStatus.CREATED,
        WebhookSecretResponse,
    )

    # The shopper's app: one sync, then the day's work.
    shopper = sign_in(
        TokenRequest(grant_type=GrantType.PASSWORD, username=shopper_email, password=shopper_password)
    )
    synced = expect(sync_my_app.sync_detailed(client=shopper), HTTPStatus.OK, SyncResponse)
    assert published.id in [q.id for q in synced.questionnaires.items]
    assert [a.location_id for a in synced.assignments.items] == [location.id]
    assert synced.reports.items == [] and synced.reports.complete
    again = sync_my_app.sync_detailed(client=shopper, since=synced.cursor)
    assert again.status_code == HTTPStatus.NOT_MODIFIED, again.status_code
    stores = expect(
        list_eligible_locations.sync_detailed(client=shopper, region="Lisbon"), HTTPStatus.OK, PageEligibleLocation
    )
    assert location.id in [s.location_id for s in stores.items if s.eligible]
    accepted = expect(
        accept_assignment.sync_detailed(synced.assignments.items[0].id, client=shopper),
        HTTPStatus.OK,
        AssignmentResponse,
    )
    assert accepted.status == AssignmentStatus.ACCEPTED

    photo_id = uuid.uuid4()
    started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    submission = ReportSubmission(
        id=uuid.uuid4(),
        location_id=location.id,
        questionnaire_id=published.id,
        assignment_id=accepted.id,
        visit=Visit(started_at=started, ended_at=started + datetime.timedelta(minutes=15)),
        answers=[
            Answer(question="greeted", value=True),
            Answer(question="courtesy", value=5),
            Answer(question="had_issue", value="yes"),
            Answer(question="calm", value=True),
            Answer(question="remembered_name", value=True, comment="She used my name twice"),
            Answer(question="storefront", value=str(photo_id)),
        ],
        narrative="Warm welcome.",
    )
    created = expect(submit_report.sync_detailed(client=shopper, body=submission), HTTPStatus.CREATED, ReportResponse)
    assert created.status == ReportStatus.SUBMITTED and created.score.mile_level == MileLevel.SECOND

    # The photo follows its acknowledged report, as raw bytes.
    jpeg = tiny_jpeg()
    stored = expect(
        upload_attachment.sync_detailed(
            created.id,
            photo_id,
            client=shopper,
            body=File(payload=io.BytesIO(jpeg), file_name="storefront.jpg", mime_type="image/jpeg"),
        ),
        HTTPStatus.CREATED,
        AttachmentResponse,
    )
    assert stored.media_type == "image/jpeg" and 0 < stored.size < len(jpeg)
    files = expect(list_attachments.sync_detailed(created.id, client=shopper), HTTPStatus.OK, AttachmentStatus)
    assert files.missing == [] and [f.id for f in files.received] == [photo_id]
    whole = expect(download_attachment.sync_detailed(photo_id, client=shopper), HTTPStatus.OK, File)
    body = whole.payload.read()
    assert len(body) == stored.size and body.startswith(b"\xff\xd8\xff")
    part = expect(
        download_attachment.sync_detailed(photo_id, client=shopper, range_="bytes=2-5"),
        HTTPStatus.PARTIAL_CONTENT,
        File,
    )
    assert part.payload.read() == body[2:6]
    again_read = expect(get_report.sync_detailed(created.id, client=shopper), HTTPStatus.OK, ReportResponse)
    assert again_read.answers[1].value == 5

    # A reviewer returns it; the app's next sync shows why, and it sends a revision.
    expect(
        review_report.sync_detailed(
            created.id, client=admin, body=ReviewRequest(action=ReviewAction.RETURN, note="Who called you by name?")
        ),
        HTTPStatus.OK,
        ReportResponse,
    )
    later = expect(sync_my_app.sync_detailed(client=shopper, since=synced.cursor), HTTPStatus.OK, SyncResponse)
    returned = [r for r in later.reports.items if r.id == created.id]
    assert returned and returned[0].status == ReportStatus.RETURNED
    note = returned[0].last_review
    assert isinstance(note, ReviewNote) and note.note == "Who called you by name?"
    submission.narrative = "Warm welcome; Rita at the till called me by name."
    revised = expect(
        revise_report.sync_detailed(created.id, client=shopper, body=submission), HTTPStatus.OK, ReportResponse
    )
    assert revised.revision == 2
    approved = expect(
        review_report.sync_detailed(
            created.id, client=admin, body=ReviewRequest(action=ReviewAction.APPROVE, revision=2)
        ),
        HTTPStatus.OK,
        ReportResponse,
    )
    assert approved.status == ReportStatus.APPROVED
    history = expect(get_report_history.sync_detailed(created.id, client=admin), HTTPStatus.OK, HistoryResponse)
    assert [h.action.value for h in history.items] == ["submit", "return", "revise", "approve"]
    summary = expect(
        get_location_summary.sync_detailed(location.id, client=admin), HTTPStatus.OK, LocationSummaryResponse
    )
    assert summary.figures.visits == 1 and summary.figures.second_mile.count == 1
    assert summary.figures.verdict == VerdictName.INSUFFICIENT_DATA

    # An integrator: reports and the typed event feed with client credentials.
    integration = expect(
        create_client.sync_detailed(
            client=admin,
            body=CreateClientRequest(name=f"BI {suffix}", scopes=[Scope.REPORTSREAD, Scope.EVENTSREAD]),
        ),
        HTTPStatus.CREATED,
        CreatedClientResponse,
    )
    bi = sign_in(
        TokenRequest(
            grant_type=GrantType.CLIENT_CREDENTIALS,
            client_id=str(integration.client_id),
            client_secret=integration.client_secret,
        )
    )
    seen = expect(list_reports.sync_detailed(client=bi, location_id=location.id), HTTPStatus.OK, PageReportResponse)
    assert len(seen.items) == 1 and seen.items[0].staff_observed_redacted
    feed = expect(
        list_events.sync_detailed(client=bi, types="report.approved", limit=500), HTTPStatus.OK, FeedResponse
    )
    approvals = [e for e in feed.items if isinstance(e, ReportApprovedEvent) and e.data.report_id == created.id]
    assert len(approvals) == 1 and approvals[0].data.mile_level == MileLevel.SECOND
    assert approvals[0].data.revision == 2 and approvals[0].data.assignment_id == accepted.id

    # The same event, delivered to the webhook: verified, then read as the same type.
    headers, delivered = deliveries.next()
    Webhook(hook.secret).verify(delivered, headers)
    event = ReportApprovedEvent.from_dict(json.loads(delivered))
    assert event.id == approvals[0].id and event.data.report_id == created.id
    assert headers["webhook-id"] == str(event.id)
    try:
        Webhook(hook.secret).verify(delivered.replace(b"approved", b"rejected"), headers)
    except Exception:
        pass
    else:
        raise SystemExit("a changed body passed verification")
    deliveries.server.shutdown()
    print("python client scenario: passed")


if __name__ == "__main__":
    main()

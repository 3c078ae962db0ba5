"""A shopper's visit, end to end, through the Python client generated from
openapi/openapi.json with no hand edits: admin signs in, creates a location and a
questionnaire with a conditional question and a photo, publishes it, creates a shopper; the
shopper submits a report, uploads its photo, reads it back and downloads a byte range; the admin returns it with a note, the shopper revises it,
the admin approves it and lists approved reports; an integration client reads them with the
client-credentials grant. Checked with `mypy --strict`; exits non-zero on any surprise.

Environment: SECONDMILE_URL, SECONDMILE_ADMIN_EMAIL, SECONDMILE_ADMIN_PASSWORD.
"""

from __future__ import annotations

import datetime
import io
import os
import uuid
from http import HTTPStatus
from typing import TypeVar

from secondmile_client import AuthenticatedClient, Client
from secondmile_client.api.aggregates import get_location_summary
from secondmile_client.api.attachments import download_attachment, list_attachments, upload_attachment
from secondmile_client.api.auth import get_me, issue_token
from secondmile_client.api.integration_clients import create_client
from secondmile_client.api.locations import create_location, import_locations
from secondmile_client.api.questionnaires import create_questionnaire, publish_questionnaire
from secondmile_client.api.reports import get_report, list_reports, submit_report
from secondmile_client.api.review import get_report_history, review_report, revise_report
from secondmile_client.api.users import create_user
from secondmile_client.models import (
    Answer,
    ChoiceOption,
    CreateClientRequest,
    CreateLocationRequest,
    CreateQuestionnaireRequest,
    CreateUserRequest,
    GrantType,
    MileLevel,
    PrincipalKind,
    Problem,
    Question,
    QuestionType,
    ReportStatus,
    ReportSubmission,
    ReviewAction,
    ReviewRequest,
    Role,
    Scope,
    Section,
    ShowIf,
    Tier,
    TokenRequest,
    Visit,
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
    from secondmile_client.models import TokenResponse

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


def main() -> None:
    from secondmile_client.models import (
        CreatedClientResponse,
        HistoryResponse,
        LocationResponse,
        MeResponse,
        PageReportResponse,
        QuestionnaireResponse,
        ReportResponse,
        UserResponse,
    )

    admin = sign_in(
        TokenRequest(grant_type=GrantType.PASSWORD, username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    )
    me = expect(get_me.sync_detailed(client=admin), HTTPStatus.OK, MeResponse)
    assert me.kind == PrincipalKind.USER and me.role == Role.ADMIN

    suffix = uuid.uuid4().hex[:8]
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

    # A CSV file of stores is a binary body too.
    from secondmile_client.models import ImportReport

    csv = f"code,name,timezone,region\nPY-{suffix}-2,Baixa,Europe/Lisbon,Lisbon\n".encode()
    imported = expect(
        import_locations.sync_detailed(
            client=admin, body=File(payload=io.BytesIO(csv), file_name="stores.csv", mime_type="text/csv")
        ),
        HTTPStatus.OK,
        ImportReport,
    )
    assert imported.created == 1 and imported.skipped == 0

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
                key=f"py-visit-{suffix}",
                title="Store visit",
                sections=[Section(key="visit", title="The visit", questions=questions)],
            ),
        ),
        HTTPStatus.CREATED,
        QuestionnaireResponse,
    )
    assert draft.sections[0].questions[3].show_if is not None
    published = expect(
        publish_questionnaire.sync_detailed(draft.id, client=admin),
        HTTPStatus.OK,
        QuestionnaireResponse,
    )

    shopper_email = f"shopper-{suffix}@example.test"
    shopper_password = f"shopper passphrase {suffix}"
    expect(
        create_user.sync_detailed(
            client=admin,
            body=CreateUserRequest(
                email=shopper_email,
                display_name="Mystery shopper",
                role=Role.SHOPPER,
                password=shopper_password,
            ),
        ),
        HTTPStatus.CREATED,
        UserResponse,
    )
    shopper = sign_in(
        TokenRequest(grant_type=GrantType.PASSWORD, username=shopper_email, password=shopper_password)
    )

    photo_id = uuid.uuid4()
    started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    submission = ReportSubmission(
        id=uuid.uuid4(),
        location_id=location.id,
        questionnaire_id=published.id,
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
    created = expect(
        submit_report.sync_detailed(client=shopper, body=submission),
        HTTPStatus.CREATED,
        ReportResponse,
    )
    assert created.status == ReportStatus.SUBMITTED
    assert created.score.mile_level == MileLevel.SECOND
    again = expect(get_report.sync_detailed(created.id, client=shopper), HTTPStatus.OK, ReportResponse)
    assert again.answers[1].value == 5

    # The photo follows its acknowledged report, as raw bytes; the server reads the type from them.
    from secondmile_client.models import AttachmentResponse, AttachmentStatus

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

    expect(
        review_report.sync_detailed(
            created.id,
            client=admin,
            body=ReviewRequest(action=ReviewAction.RETURN, note="Which employee called you by name?"),
        ),
        HTTPStatus.OK,
        ReportResponse,
    )
    submission.narrative = "Warm welcome; Rita at the till called me by name."
    revised = expect(
        revise_report.sync_detailed(created.id, client=shopper, body=submission),
        HTTPStatus.OK,
        ReportResponse,
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

    from secondmile_client.models import LocationSummaryResponse, VerdictName

    summary = expect(
        get_location_summary.sync_detailed(location.id, client=admin),
        HTTPStatus.OK,
        LocationSummaryResponse,
    )
    assert summary.figures.visits == 1 and summary.figures.second_mile.count == 1
    assert summary.figures.verdict == VerdictName.INSUFFICIENT_DATA

    page = expect(
        list_reports.sync_detailed(client=admin, status=ReportStatus.APPROVED, location_id=location.id),
        HTTPStatus.OK,
        PageReportResponse,
    )
    assert [r.id for r in page.items] == [created.id]

    integration = expect(
        create_client.sync_detailed(
            client=admin, body=CreateClientRequest(name=f"BI {suffix}", scopes=[Scope.REPORTSREAD])
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
    seen = expect(
        list_reports.sync_detailed(client=bi, location_id=location.id), HTTPStatus.OK, PageReportResponse
    )
    assert len(seen.items) == 1 and seen.items[0].staff_observed_redacted
    print("python client scenario: passed")


if __name__ == "__main__":
    main()

"""POST /secret-scanning/github (contract §12): GitHub's signed reports of credentials found in public, with keys this
test generates and publishes on a local server, as GitHub publishes its own."""

import base64
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from oauth2_provider.models import get_access_token_model

from applications import leaks
from applications.identifiers import generate_access_token, generate_client_secret
from applications.models import AuditEvent, ClientSecret
from applications.services import revoke_secret, rotate_secret
from applications.tests.oauth_helpers import request_token
from portal.actors import COMMAND_LINE
from portal.models import Membership
from portal.tests.factories import MembershipFactory
from portal.tests.helpers import at_once, hold_first_call, signed_in
from portal.tests.storage import everything_stored
from testing.databases import two_writers_at_once
from testing.documents import DocumentServer

ENDPOINT = "/secret-scanning/github"
KEYS_PATH = "/meta/public_keys/secret_scanning"
LEAKED_AT = "https://github.com/octocat/hello-world/blob/4b825dc6/config/settings.py#L12"
AccessToken = get_access_token_model()


class Signer:
    """A signing key as GitHub holds one: it signs reports, and its public half is published under `identifier`."""

    def __init__(self, identifier: str, curve=None):
        self.identifier = identifier
        self.key = ec.generate_private_key(curve or ec.SECP256R1())

    def published(self) -> dict:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"key_identifier": self.identifier, "key": pem.decode(), "is_current": True}

    def signature(self, body: bytes) -> str:
        return base64.b64encode(self.key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()

    def headers(self, body: bytes) -> dict:
        return {"Github-Public-Key-Identifier": self.identifier, "Github-Public-Key-Signature": self.signature(body)}


@pytest.fixture
def publisher(settings):
    with DocumentServer() as server:
        settings.SECRET_SCANNING_KEYS_URL = server.url(KEYS_PATH)
        yield server


@pytest.fixture
def github(publisher):
    signer = Signer(hashlib.sha256(b"key one").hexdigest())
    publisher.publish(KEYS_PATH, {"public_keys": [signer.published()]})
    return signer


def entry(token: str, url: str = LEAKED_AT, kind: str = "integrations_portal_secret") -> dict:
    return {"token": token, "type": kind, "url": url, "source": "content"}


def report(client, signer, entries=None, *, body: bytes | None = None, headers: dict | None = None):
    body = json.dumps(entries).encode() if body is None else body
    headers = signer.headers(body) if headers is None else headers
    return client.post(ENDPOINT, body, content_type="application/json", headers=headers)


def stored_state() -> tuple:
    """Everything a report may change: the secrets' revocation, the tokens, the records."""
    secrets = list(ClientSecret.objects.order_by("pk").values_list("pk", "revoked_at", "leak_url"))
    return secrets, sorted(AccessToken.objects.values_list("pk", flat=True)), AuditEvent.objects.count()


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def unknown_secret() -> str:
    return generate_client_secret()


@pytest.fixture
def leaky(make_application, get_token):
    """An application with one live secret that issued two tokens."""
    application, secret = make_application(name="Leaky sync")
    return application, secret, [get_token(application, secret), get_token(application, secret)]


# --- What a report revokes -----------------------------------------------------------------------------------------


def test_a_reported_secret_is_revoked_at_once_with_every_token_it_issued(client, github, leaky):
    application, secret, tokens = leaky

    response = report(client, github, [entry(secret)])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == [
        {"token_hash": sha256(secret), "token_type": "integrations_portal_secret", "label": "true_positive"}
    ]
    row = ClientSecret.objects.get(application=application)
    assert row.revoked_at is not None and row.leak_url == LEAKED_AT
    assert not AccessToken.objects.filter(application=application).exists()
    # From the very next request: the secret gets no token, its tokens open no API.
    assert request_token(client, application, secret).status_code == 401
    for token in tokens:
        assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_the_only_live_secret_is_revoked_too(client, github, make_application):
    application, secret = make_application()
    assert application.secrets.count() == 1

    assert report(client, github, [entry(secret)]).json()[0]["label"] == "true_positive"

    assert not ClientSecret.objects.filter(application=application, revoked_at__isnull=True).exists()
    assert request_token(client, application, secret).status_code == 401


def test_a_reported_token_is_revoked_alone_and_its_secret_stays_live(client, github, leaky, get_token):
    application, secret, (reported, other) = leaky

    response = report(client, github, [entry(reported, kind="integrations_portal_token")])

    assert response.json() == [
        {"token_hash": sha256(reported), "token_type": "integrations_portal_token", "label": "true_positive"}
    ]
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {reported}").status_code == 401
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200
    assert ClientSecret.objects.get(application=application).revoked_at is None
    assert request_token(client, application, secret).status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_LEAKED)
    assert (event.application_id, event.changes, event.actor_label) == (
        application.pk,
        {"url": LEAKED_AT},
        "GitHub secret scanning",
    )


def test_a_secret_of_any_organization_is_revoked(client, github, make_application, other_organization):
    application, secret = make_application(name="Globex sync", organization=other_organization)

    assert report(client, github, [entry(secret)]).json()[0]["label"] == "true_positive"

    assert ClientSecret.objects.get(application=application).revoked_at is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.SECRET_LEAKED)
    assert event.organization_id == other_organization.pk


def test_answers_follow_the_report_in_order_and_label_only_live_credentials_true(
    client, github, make_application, get_token
):
    live, live_secret = make_application(name="Live")
    # From another application: revoking the live secret ends the tokens it issued, which would not be live then.
    holder, holder_secret = make_application(name="Token holder")
    live_token, expired_token = get_token(holder, holder_secret), get_token(holder, holder_secret)
    revoked, revoked_secret = make_application(name="Revoked already")
    rotate_secret(application=revoked, actor=COMMAND_LINE, keep_current_for=None)
    revoke_secret(secret=ClientSecret.objects.get(application=revoked, hint=revoked_secret[-4:]), actor=COMMAND_LINE)
    expired, expired_secret = make_application(name="Expired")
    ClientSecret.objects.filter(application=expired).update(expires_at=timezone.now() - timedelta(seconds=1))
    AccessToken.objects.filter(token_checksum=sha256(expired_token)).update(expires=timezone.now() - timedelta(1))
    forged = live_secret[:-1] + ("A" if live_secret[-1] != "A" else "B")  # a checksum that does not match
    tokens = [
        live_secret,
        unknown_secret(),
        revoked_secret,
        "not a credential at all",
        expired_secret,
        live_token,
        generate_access_token(),
        expired_token,
        forged,
        "",
    ]

    answers = report(client, github, [entry(token, kind=f"type {n}") for n, token in enumerate(tokens)]).json()

    assert [answer["token_hash"] for answer in answers] == [sha256(token) for token in tokens]
    assert [answer["token_type"] for answer in answers] == [f"type {n}" for n in range(len(tokens))]
    labels = [answer["label"] for answer in answers]
    assert labels == ["true_positive", *["false_positive"] * 4, "true_positive", *["false_positive"] * 4]
    # The expired secret and the expired token were left as they were.
    assert ClientSecret.objects.get(application=expired).revoked_at is None
    assert AccessToken.objects.filter(token_checksum=sha256(expired_token)).exists()


def test_reporting_the_same_credentials_again_changes_nothing_more(client, github, leaky):
    application, secret, (token, _) = leaky
    first = report(client, github, [entry(secret), entry(token)])
    assert [answer["label"] for answer in first.json()] == ["true_positive", "false_positive"]
    before = stored_state()

    again = report(client, github, [entry(secret, url="https://github.com/elsewhere"), entry(secret), entry(token)])

    assert [answer["label"] for answer in again.json()] == ["false_positive"] * 3
    assert stored_state() == before
    assert ClientSecret.objects.get(application=application).leak_url == LEAKED_AT


def test_the_same_secret_twice_in_one_report_is_revoked_once(client, github, leaky):
    _, secret, _ = leaky

    answers = report(client, github, [entry(secret), entry(secret)]).json()

    assert [answer["label"] for answer in answers] == ["true_positive", "false_positive"]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SECRET_LEAKED).count() == 1


def test_a_secret_issued_before_lookup_keys_is_found_by_its_hint(client, github, make_application):
    application, secret = make_application()
    # As migration 0007 leaves a secret whose plaintext it never saw.
    ClientSecret.objects.filter(application=application).update(lookup_key=f"hint:{secret[-4:]}")
    # Another old secret with the same hint is checked and left alone.
    twin, twin_secret = make_application(name="Twin")
    ClientSecret.objects.filter(application=twin).update(lookup_key=f"hint:{secret[-4:]}")

    assert report(client, github, [entry(secret)]).json()[0]["label"] == "true_positive"

    assert ClientSecret.objects.get(application=application).revoked_at is not None
    assert ClientSecret.objects.get(application=twin).revoked_at is None


def test_each_entry_costs_at_most_one_look_up_and_junk_none(client, github, leaky, django_assert_num_queries):
    report(client, github, [])  # the keys are fetched and kept
    body = json.dumps([entry(unknown_secret()), entry(generate_access_token()), entry("ipcs_short"), entry("x" * 5000)])
    headers = github.headers(body.encode())

    # The signature check reads the kept keys (one cache read); then one query per well-formed entry.
    with django_assert_num_queries(3) as captured:
        response = client.post(ENDPOINT, body, content_type="application/json", headers=headers)

    assert [answer["label"] for answer in response.json()] == ["false_positive"] * 4
    secret_query, token_query = (query["sql"] for query in captured.captured_queries[1:])
    assert "lookup_key" in secret_query and " IN (" in secret_query
    assert "token_checksum" in token_query


# --- Refusals: nothing changes --------------------------------------------------------------------------------------

SIGNATURE_REFUSED = {"error": "invalid_signature", "error_description": "The report's signature could not be verified."}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda signer, body: {}, id="no headers"),
        pytest.param(lambda signer, body: {"Github-Public-Key-Identifier": signer.identifier}, id="no signature"),
        pytest.param(lambda signer, body: {"Github-Public-Key-Signature": signer.signature(body)}, id="no identifier"),
        pytest.param(
            lambda signer, body: {**signer.headers(body), "Github-Public-Key-Signature": ""}, id="empty signature"
        ),
        pytest.param(
            lambda signer, body: {**signer.headers(body), "Github-Public-Key-Signature": "not base64!"},
            id="not base64",
        ),
        pytest.param(
            lambda signer, body: {
                **signer.headers(body),
                "Github-Public-Key-Signature": base64.b64encode(b"x").decode(),
            },
            id="not DER",
        ),
        pytest.param(lambda signer, body: signer.headers(body + b" "), id="signature of another body"),
        pytest.param(
            lambda signer, body: {**Signer(signer.identifier).headers(body)}, id="another key, the same identifier"
        ),
        pytest.param(lambda signer, body: Signer("unknown-key").headers(body), id="unknown identifier"),
        pytest.param(
            lambda signer, body: {**signer.headers(body), "Github-Public-Key-Identifier": "é"},
            id="non-ascii identifier",
        ),
    ],
)
def test_a_report_without_a_good_signature_is_refused_alike_and_changes_nothing(client, github, leaky, headers):
    _, secret, (token, _) = leaky
    body = json.dumps([entry(secret), entry(token)]).encode()
    before = stored_state()

    response = report(client, github, body=body, headers=headers(github, body))

    assert response.status_code == 401
    assert response.json() == SIGNATURE_REFUSED
    assert stored_state() == before


def test_a_key_of_another_curve_verifies_nothing(client, publisher, leaky):
    _, secret, _ = leaky
    signer = Signer("p384", curve=ec.SECP384R1())
    publisher.publish(KEYS_PATH, {"public_keys": [signer.published()]})
    before = stored_state()

    assert report(client, signer, [entry(secret)]).status_code == 401
    assert stored_state() == before


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "The body is not JSON"),
        (b"{not json", "The body is not JSON"),
        ("[]".encode("utf-16"), "The body is not JSON"),
        (b'["\xff"]', "The body is not JSON"),
        (b'{"token": "x"}', "The body is not a JSON array."),
        (b'"ipcs_"', "The body is not a JSON array."),
        (b"[NaN]", "The body is not JSON"),
        (b'[{"token": "a", "token": "b", "type": "t", "url": "", "source": "s"}]', "The body is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "The body is not JSON"),
        (b"[" + b"9" * 5000 + b"]", "The body is not JSON"),
        (b"[1]", "Entry 1 is not an object."),
        (b"[[]]", "Entry 1 is not an object."),
        (b'[{"type": "t", "url": "", "source": "s"}]', "Entry 1: token is not a string."),
        (b'[{"token": 5, "type": "t", "url": "", "source": "s"}]', "Entry 1: token is not a string."),
        (b'[{"token": "x", "url": "", "source": "s"}]', "Entry 1: type is not a string."),
        (b'[{"token": "x", "type": ["t"], "url": "", "source": "s"}]', "Entry 1: type is not a string."),
        (b'[{"token": "x", "type": "t", "url": 7, "source": "s"}]', "Entry 1: url is not a string."),
        (b'[{"token": "x", "type": "t", "url": "", "source": {}}]', "Entry 1: source is not a string."),
        (b'[{"token": "\\ud800", "type": "t", "url": "", "source": "s"}]', "Entry 1: token is not valid text."),
        (
            b'[{"token": "x", "type": "t", "url": "https://x/\\u0000", "source": "s"}]',
            "Entry 1: url is not valid text.",
        ),
    ],
)
def test_a_signed_report_that_is_not_githubs_format_is_refused_and_changes_nothing(
    client, github, leaky, body, problem
):
    _, secret, _ = leaky
    # A live secret in the same report: a refused report revokes none of it.
    if body.startswith(b"[{"):
        body = b"[" + json.dumps(entry(secret)).encode() + b", " + body[1:]
        problem = problem.replace("Entry 1", "Entry 2")
    before = stored_state()

    response = report(client, github, body=body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_report"
    assert response.json()["error_description"].startswith(problem)
    assert stored_state() == before


def test_more_than_a_thousand_entries_are_refused(client, github, leaky):
    _, secret, _ = leaky
    before = stored_state()

    response = report(client, github, [entry(secret)] + [entry(unknown_secret()) for _ in range(1000)])

    assert response.status_code == 400
    assert response.json()["error_description"] == "A report holds at most 1000 entries."
    assert stored_state() == before
    assert report(client, github, [entry(secret)] + [entry("x")] * 999).status_code == 200


def test_a_body_over_one_mebibyte_is_refused_signed_or_not(client, github, leaky):
    _, secret, _ = leaky
    padding = "p" * (1024 * 1024)
    body = json.dumps([entry(secret, url=padding)]).encode()
    before = stored_state()

    for headers in (github.headers(body), {}):
        response = report(client, github, body=body, headers=headers)
        assert response.status_code == 413
        assert response.json()["error"] == "report_too_large"
    assert stored_state() == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_only_post_is_answered(db, client, github, method):
    response = client.generic(method, ENDPOINT)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"


def test_no_csrf_token_is_needed(github, leaky):
    from django.test import Client

    _, secret, _ = leaky

    assert report(Client(enforce_csrf_checks=True), github, [entry(secret)]).json()[0]["label"] == "true_positive"


def test_a_long_url_is_kept_cut_and_the_secret_revoked(client, github, leaky):
    application, secret, _ = leaky
    url = "https://github.com/" + "a" * 5000

    assert report(client, github, [entry(secret, url=url)]).json()[0]["label"] == "true_positive"
    assert ClientSecret.objects.get(application=application).leak_url == url[:2048]


# --- The keys: kept an hour, refetched at most once a minute -------------------------------------------------------


def test_the_keys_are_fetched_once_refreshed_after_50_minutes_and_kept_at_most_an_hour(
    db, client, github, publisher, frozen_time
):
    for _ in range(3):
        assert report(client, github, []).status_code == 200
    assert publisher.count(KEYS_PATH) == 1

    frozen_time[0] += 2999
    assert report(client, github, []).status_code == 200
    assert publisher.count(KEYS_PATH) == 1

    # Due for a refresh, fetched while they still serve; a publisher that fails then leaves them in use.
    publisher.publish(KEYS_PATH, b"down", status=502)
    frozen_time[0] += 2
    assert report(client, github, []).status_code == 200
    assert publisher.count(KEYS_PATH) == 2
    frozen_time[0] += 61
    assert report(client, github, []).status_code == 200
    assert publisher.count(KEYS_PATH) == 3

    # An hour after the last good fetch they are gone: nothing is verified with keys older than that.
    frozen_time[0] += 600
    assert report(client, github, []).status_code == 503
    assert publisher.count(KEYS_PATH) == 4
    publisher.publish(KEYS_PATH, {"public_keys": [github.published()]})
    frozen_time[0] += 61
    assert report(client, github, []).status_code == 200
    assert publisher.count(KEYS_PATH) == 5


def test_a_rotated_key_is_picked_up_with_one_refetch(client, github, publisher, leaky, frozen_time):
    _, secret, _ = leaky
    assert report(client, github, []).status_code == 200
    new = Signer(hashlib.sha256(b"key two").hexdigest())
    publisher.publish(KEYS_PATH, {"public_keys": [{**github.published(), "is_current": False}, new.published()]})

    # Within the minute of the last fetch, the new identifier is unknown and fetches nothing.
    assert report(client, new, [entry(secret)]).status_code == 401
    assert publisher.count(KEYS_PATH) == 1

    frozen_time[0] += 61
    assert report(client, new, [entry(secret)]).json()[0]["label"] == "true_positive"
    assert publisher.count(KEYS_PATH) == 2
    # Both keys are now kept: neither fetches again.
    assert report(client, new, []).status_code == 200
    assert report(client, github, []).status_code == 200
    assert publisher.count(KEYS_PATH) == 2


def test_a_flood_of_unknown_identifiers_fetches_the_keys_at_most_once_a_minute(
    db, client, github, publisher, frozen_time
):
    assert report(client, github, []).status_code == 200

    for minute in range(1, 4):
        frozen_time[0] += 60
        for n in range(25):
            made_up = Signer(f"made-up-{minute}-{n}")
            assert report(client, made_up, []).json() == SIGNATURE_REFUSED
            frozen_time[0] += 0.5
        assert publisher.count(KEYS_PATH) == 1 + minute


def test_keys_that_cannot_be_had_answer_503_and_change_nothing(client, publisher, leaky):
    _, secret, _ = leaky
    publisher.publish(KEYS_PATH, {"message": "API rate limit exceeded"}, status=403)
    before = stored_state()

    response = report(client, Signer("any"), [entry(secret)])

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response.json()["error"] == "temporarily_unavailable"
    assert stored_state() == before


def test_only_well_formed_p256_keys_are_kept(db, client, github, publisher):
    listed = [
        {"key_identifier": "not pem", "key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
        {"key_identifier": 5, "key": github.published()["key"]},
        "not an object",
        github.published(),
    ]
    publisher.publish(KEYS_PATH, {"public_keys": listed})

    assert report(client, github, []).status_code == 200
    assert report(client, Signer("not pem"), []).status_code == 401


# --- What the admins see -------------------------------------------------------------------------------------------


@pytest.fixture
def mailed(settings):
    settings.NOTICE_EMAILS = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return mail.outbox


def test_the_organizations_admins_are_mailed_the_hint_application_and_url_never_the_secret(
    client, github, leaky, mailed, admin_user, organization, other_organization
):
    application, secret, (token, _) = leaky
    second_admin = MembershipFactory(organization=organization, role=Membership.Role.ADMIN).user
    MembershipFactory(organization=organization, role=Membership.Role.MEMBER)
    MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN)
    stored = ClientSecret.objects.get(application=application)

    report(client, github, [entry(secret)])

    assert sorted(message.to[0] for message in mailed) == sorted([admin_user.email, second_admin.email])
    for message in mailed:
        assert message.subject == f"Leaked client secret …{secret[-4:]} of “Leaky sync” revoked"
        assert f"…{secret[-4:]}" in message.body and "“Leaky sync”" in message.body and LEAKED_AT in message.body
        assert f"/integrations/applications/{application.public_id}/" in message.body
        text = message.subject + message.body + str(message.message())
        for forbidden in (secret, sha256(secret), stored.secret_hash, stored.secret_hash.split("$")[-1], token):
            assert forbidden not in text


def test_a_reported_token_is_mailed_without_the_token(client, github, leaky, mailed, admin_user):
    _, _, (token, _) = leaky

    report(client, github, [entry(token)])

    assert len(mailed) == 1
    assert "an access token" in mailed[0].body and LEAKED_AT in mailed[0].body
    assert token not in mailed[0].body + mailed[0].subject and sha256(token) not in mailed[0].body


def test_nothing_is_mailed_without_email_url_or_for_false_positives(client, github, leaky, settings):
    _, secret, _ = leaky
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    report(client, github, [entry(secret)])
    settings.NOTICE_EMAILS = True
    report(client, github, [entry(secret), entry(unknown_secret())])

    assert mail.outbox == []


def test_a_mail_that_cannot_be_sent_does_not_undo_the_revocation(client, github, leaky, mailed, settings):
    application, secret, _ = leaky
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1

    assert report(client, github, [entry(secret)]).json()[0]["label"] == "true_positive"
    assert ClientSecret.objects.get(application=application).revoked_at is not None


def test_a_report_leaves_no_reported_value_in_the_database_the_cache_or_the_logs(client, github, leaky, caplog):
    caplog.set_level(logging.DEBUG)
    _, secret, (token, _) = leaky
    unknown = unknown_secret()

    report(client, github, [entry(secret), entry(token), entry(unknown)])

    stored = everything_stored()
    logged = caplog.text + "\n".join(f"{record.getMessage()} {record.exc_text}" for record in caplog.records)
    for value in (secret, token, unknown):
        assert value not in stored and value not in logged


def _text(page) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.content.decode()))


def test_the_view_page_shows_the_leak_with_its_url_and_the_list_marks_the_application(
    client, github, leaky, admin_portal_client
):
    application, secret, _ = leaky
    report(client, github, [entry(secret)])

    page = admin_portal_client.get(f"/integrations/applications/{application.public_id}/")
    assert f"…{secret[-4:]}" in _text(page)
    assert f"revoked: reported leaked at {LEAKED_AT}" in _text(page)
    assert f'href="{LEAKED_AT}"' in page.content.decode()
    assert "Reported leaked" in _text(admin_portal_client.get("/integrations/applications/"))
    assert LEAKED_AT in _text(admin_portal_client.get("/integrations/activity/"))

    # A live credential again: the list no longer marks it; the page still shows the leak for a while.
    rotate_secret(application=application, actor=COMMAND_LINE)
    assert "Reported leaked" not in _text(admin_portal_client.get("/integrations/applications/"))
    page = admin_portal_client.get(f"/integrations/applications/{application.public_id}/")
    assert f"revoked: reported leaked at {LEAKED_AT}" in _text(page)


def test_the_leak_stays_on_the_page_30_days_once_a_secret_is_live_again(client, github, leaky, admin_user, frozen_time):
    application, secret, _ = leaky
    report(client, github, [entry(secret)])
    url = f"/integrations/applications/{application.public_id}/"

    frozen_time[0] += 31 * 86400
    # No live secret: it stays, however long ago.
    assert "revoked: reported leaked" in _text(signed_in(admin_user).get(url))
    rotate_secret(application=application, actor=COMMAND_LINE)
    assert "revoked: reported leaked" not in _text(signed_in(admin_user).get(url))


def test_a_url_that_is_no_web_address_is_shown_as_text_not_as_a_link(client, github, leaky, admin_portal_client):
    application, secret, _ = leaky
    report(client, github, [entry(secret, url="javascript:alert(1)")])

    page = admin_portal_client.get(f"/integrations/applications/{application.public_id}/").content.decode()

    assert "revoked: reported leaked</span> at <span" in page
    assert 'href="javascript:' not in page


def test_another_organizations_pages_never_show_the_leak(
    client, github, make_application, other_organization, admin_portal_client
):
    theirs, their_secret = make_application(name="Globex sync", organization=other_organization)
    report(client, github, [entry(their_secret)])

    assert admin_portal_client.get(f"/integrations/applications/{theirs.public_id}/").status_code == 404
    for path in ("/integrations/applications/", "/integrations/activity/"):
        text = _text(admin_portal_client.get(path))
        assert "Reported leaked" not in text and LEAKED_AT not in text and "Globex sync" not in text


# --- Races and hostile reports -------------------------------------------------------------------------------------


@two_writers_at_once
@pytest.mark.django_db(transaction=True)
def test_two_reports_of_one_secret_at_once_revoke_it_once(github, make_application, monkeypatch):
    application, secret = make_application()
    assert report(Client(), github, []).status_code == 200  # the keys are kept before the race
    # The first report to find the secret live is held there until the second finds it too (or waits for the
    # application's lock): each would revoke it without the conditional update.
    gate = hold_first_call(monkeypatch, leaks, "_secret_with_value")

    responses = at_once(*[lambda: report(Client(), github, [entry(secret)])] * 2, meanwhile=gate.overlap)

    labels = sorted(response.json()[0]["label"] for response in responses)
    assert labels == ["false_positive", "true_positive"], gate.met
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SECRET_LEAKED).count() == 1


EXAMPLES = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
# Lone surrogates too: JSON can spell them (\ud800).
TEXT = st.text(max_size=60) | st.tuples(
    st.text(max_size=20), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
ENTRIES = st.lists(
    st.one_of(
        JSON_VALUES,
        st.fixed_dictionaries(
            {"token": JSON_VALUES, "type": JSON_VALUES},
            optional={"url": JSON_VALUES, "source": JSON_VALUES, "extra": JSON_VALUES},
        ),
    ),
    max_size=5,
)


@EXAMPLES
@given(entries=ENTRIES, raw=st.binary(max_size=200), as_raw=st.booleans())
def test_any_signed_body_is_answered_200_or_400_json_and_revokes_nothing_unknown(
    client, github, leaky, entries, raw, as_raw
):
    body = raw if as_raw else json.dumps(entries).encode("utf-8", "surrogatepass")
    before = stored_state()

    response = report(client, github, body=body)

    assert response.status_code in (200, 400), response.content[:300]
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    if response.status_code == 200:
        assert [item["label"] for item in answer] == ["false_positive"] * len(entries)
        assert [item["token_type"] for item in answer] == [item["type"] for item in entries]
    assert stored_state() == before


@pytest.mark.django_db(transaction=True)
def test_the_readmes_forwarding_step_revokes_the_secrets_of_the_alerts_it_is_given(
    live_server, publisher, make_application, tmp_path
):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    # The README's own commands: the key pair, and forward.py (indented in a list item).
    for command in re.findall(r"\n {7}(openssl [^\n]+)", readme):
        subprocess.run(command, shell=True, cwd=tmp_path, check=True, capture_output=True)
    snippet = re.search(r"```python\n( {3}# forward\.py.*?) {3}```", readme, re.DOTALL).group(1)
    (tmp_path / "forward.py").write_text("".join(line[3:] for line in snippet.splitlines(keepends=True)))
    published = {"key_identifier": "forwarder-1", "key": (tmp_path / "forwarder.pub").read_text(), "is_current": True}
    publisher.publish(KEYS_PATH, {"public_keys": [published]})
    application, secret = make_application()
    alert = {"secret": secret, "secret_type": "custom_ipcs", "html_url": "https://github.com/o/r/security/1"}

    done = subprocess.run(
        [sys.executable, "forward.py"],
        cwd=tmp_path,
        input=json.dumps([alert]),
        env={**os.environ, "PORTAL": live_server.url},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["label"] == "true_positive"
    assert ClientSecret.objects.get(application=application).leak_url == alert["html_url"]

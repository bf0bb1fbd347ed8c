"""The portal's Client secrets section, Generate new secret with its one-time reveal, and Revoke (contract §6)."""

import io
import json
import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from dotenv import dotenv_values

from api.tests.helpers import access_token_row
from applications.models import Application, AuditEvent, ClientSecret
from applications.services import delete_application, rotate_secret
from applications.tests.oauth_helpers import request_token
from applications.tests.test_views import LIST_URL, by_testid, decode_data_url, detail_url
from portal.actors import COMMAND_LINE
from portal.tests.storage import everything_stored


def rotate_url(application):
    return f"/integrations/applications/{application.public_id}/secrets/new/"


def revoke_url(application, secret):
    return f"/integrations/applications/{application.public_id}/secrets/{secret.public_id}/revoke/"


def rotate_data(**overrides):
    return {"keep_current_for": "86400", "expires_in_days": "never", "form_token": "s" * 43, **overrides}


def options(html, name):
    """The (value, " selected" or "") of each option of the named select."""
    select = html.split(f'name="{name}"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]+)"( selected)?>', select)


def snapshot():
    return list(ClientSecret.objects.order_by("pk").values())


def assert_invalid_client(response):
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def expire_tokens(tokens):
    for token in tokens:
        row = access_token_row(token)
        row.expires = timezone.now() - timedelta(seconds=1)
        row.save(update_fields=["expires"])


# --- The view page's section --------------------------------------------------------------


def test_the_view_page_lists_each_live_secret_without_the_secret(admin_portal_client, make_application):
    application, secret = make_application()
    first = application.secrets.get()
    second, new_secret = rotate_secret(application=application, actor=COMMAND_LINE, expires_in_days=30)
    response = admin_portal_client.get(detail_url(application))
    html = response.content.decode()
    section = html[html.index('data-testid="client-secrets"') : html.index("<h2>Scopes</h2>")]
    assert "<h2>Client secrets</h2>" in section
    assert f'<code class="value">…{first.hint}</code>' in section
    assert f'<code class="value">…{second.hint}</code>' in section
    first.refresh_from_db()
    for row in (first, second):
        assert f'data-secret-id="{row.public_id}"' in section
        assert f'datetime="{row.expires_at.isoformat()}"' in section
        assert f'href="{revoke_url(application, row)}"' in section
    assert section.count(">never</td>") == 2  # neither was used yet
    assert f'href="{rotate_url(application)}">Generate new secret</a>' in section
    assert "Two secrets are live: revoke one before generating another." in section
    for value in (secret, new_secret, first.secret_hash, second.secret_hash):
        assert value not in html


def test_an_unexpiring_unused_secret_shows_never_twice(admin_portal_client, make_application):
    application, _ = make_application()
    html = admin_portal_client.get(detail_url(application)).content.decode()
    section = html[html.index('data-testid="client-secrets"') : html.index("<h2>Scopes</h2>")]
    assert section.count(">never</td>") == 2
    assert "Two secrets are live" not in section


def test_members_see_the_rows_but_no_change_actions(member_client, make_application):
    application, _ = make_application()
    row = application.secrets.get()
    html = member_client.get(detail_url(application)).content.decode()
    assert f"…{row.hint}" in html
    assert rotate_url(application) not in html and revoke_url(application, row) not in html


def test_revoked_and_expired_secrets_are_not_listed(admin_portal_client, make_application):
    application, _ = make_application()
    first = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=0)
    html = admin_portal_client.get(detail_url(application)).content.decode()
    assert f'data-secret-id="{first.public_id}"' not in html


def section_of(html):
    return html[html.index('data-testid="client-secrets"') : html.index("<h2>Scopes</h2>")]


def test_an_expired_secret_is_listed_while_tokens_it_issued_are_valid(
    admin_portal_client, member_client, make_application, get_token
):
    application, old = make_application()
    first = application.secrets.get()
    tokens = [get_token(application, old), get_token(application, old)]
    rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=0)
    row = f'<tr data-secret-id="{first.public_id}">'

    section = section_of(admin_portal_client.get(detail_url(application)).content.decode())
    assert row in section
    listed = section[section.index(row) :].split("</tr>")[0]
    assert "expired — 2 tokens still valid" in listed
    assert f'href="{revoke_url(application, first)}"' in listed
    assert "No live credential is left" not in section
    member_section = section_of(member_client.get(detail_url(application)).content.decode())
    assert row in member_section and revoke_url(application, first) not in member_section

    expire_tokens(tokens[:1])
    assert "expired — 1 token still valid" in admin_portal_client.get(detail_url(application)).content.decode()
    expire_tokens(tokens)
    assert row not in admin_portal_client.get(detail_url(application)).content.decode()


def test_an_expired_secret_with_valid_tokens_is_listed_when_no_secret_is_live(
    admin_portal_client, make_application, get_token
):
    application, old = make_application()
    get_token(application, old)
    ClientSecret.objects.filter(application=application).update(expires_at=timezone.now() - timedelta(seconds=1))
    section = section_of(admin_portal_client.get(detail_url(application)).content.decode())
    assert "expired — 1 token still valid" in section
    assert "No live credential is left: this application cannot get tokens." in section


def test_the_view_page_reads_expired_secrets_in_a_bounded_number_of_queries(
    admin_portal_client, make_application, get_token, django_assert_num_queries
):
    application, secret = make_application()
    with CaptureQueriesContext(connection) as with_none:
        admin_portal_client.get(detail_url(application))
    # Counted now: each request of the test client empties the connection's query log.
    queries = len(with_none)
    for _ in range(3):
        get_token(application, secret)
        get_token(application, secret)
        _, secret = rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=0)
    with django_assert_num_queries(queries):
        html = admin_portal_client.get(detail_url(application)).content.decode()
    assert html.count("expired — 2 tokens still valid") == 3


# --- Generate new secret ------------------------------------------------------------------------


def test_the_form_offers_the_contracts_choices_with_their_defaults(admin_portal_client, make_application):
    application, _ = make_application()
    response = admin_portal_client.get(rotate_url(application))
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=0"
    keep = options(html, "keep_current_for")
    assert keep == [("0", ""), ("3600", ""), ("86400", " selected"), ("604800", ""), ("forever", "")]
    expiry = options(html, "expires_in_days")
    assert expiry == [("never", " selected"), ("30", ""), ("90", ""), ("180", ""), ("365", "")]
    assert re.search(r'<input type="hidden" name="form_token" value="[A-Za-z0-9_-]{43}"', html)
    assert f'action="{rotate_url(application)}?generate"' in html


def test_generating_answers_200_with_the_reveal_of_the_new_secret(
    admin_portal_client, make_application, organization, client, settings
):
    settings.PUBLIC_BASE_URL = "https://portal.example"
    application, old = make_application()
    response = admin_portal_client.post(rotate_url(application), rotate_data(expires_in_days="90"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "New client secret for “Nightly sync”" in html and "shown this one time only" in html
    found = by_testid(response)
    secret = found["client-secret"]["text"]
    assert found["client-id"]["text"] == application.client_id
    assert secret != old and secret.startswith("ipcs_")
    _, env_text = decode_data_url(found["download-env"]["attrs"]["href"])
    env = dotenv_values(stream=io.StringIO(env_text))
    assert (env["CLIENT_ID"], env["CLIENT_SECRET"]) == (application.client_id, secret)
    assert env["ORGANIZATION_ID"] == str(organization.public_id)
    _, postman_text = decode_data_url(found["download-postman"]["attrs"]["href"])
    values = {value["key"]: value["value"] for value in json.loads(postman_text)["values"]}
    assert values["CLIENT_SECRET"] == secret
    assert "Quickstarts" in html

    new = application.secrets.get(hint=secret[-4:])
    assert new.form_token == "s" * 43
    assert abs(new.expires_at - (new.created_at + timedelta(days=90))) < timedelta(seconds=1)
    old_row = application.secrets.exclude(pk=new.pk).get()
    assert timedelta(hours=23) < old_row.expires_at - timezone.now() <= timedelta(days=1)
    assert request_token(client, application, secret).status_code == 200
    assert request_token(client, application, old).status_code == 200
    assert secret not in everything_stored()


@pytest.mark.parametrize(
    "choice, expected", [("0", timedelta(0)), ("3600", timedelta(hours=1)), ("604800", timedelta(days=7))]
)
def test_keep_current_for_sets_the_old_secrets_end(admin_portal_client, make_application, choice, expected):
    application, _ = make_application()
    old = application.secrets.get()
    before = timezone.now()
    admin_portal_client.post(rotate_url(application), rotate_data(keep_current_for=choice))
    old.refresh_from_db()
    assert before + expected <= old.expires_at <= timezone.now() + expected


def test_keep_current_for_zero_fails_the_old_secret_from_the_next_request(
    admin_portal_client, make_application, client, get_token
):
    application, old = make_application()
    token = get_token(application, old)
    admin_portal_client.post(rotate_url(application), rotate_data(keep_current_for="0"))
    assert_invalid_client(request_token(client, application, old))
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_forever_keeps_the_old_secret_until_revoked(admin_portal_client, make_application):
    application, _ = make_application()
    admin_portal_client.post(rotate_url(application), rotate_data(keep_current_for="forever"))
    assert [row.expires_at for row in application.secrets.all()] == [None, None]


def test_reloading_or_resubmitting_the_reveal_generates_nothing_and_shows_no_secret(
    admin_portal_client, make_application
):
    application, _ = make_application()
    first = admin_portal_client.post(rotate_url(application), rotate_data(keep_current_for="forever"))
    secret = by_testid(first)["client-secret"]["text"]
    before = snapshot()

    again = admin_portal_client.post(rotate_url(application), rotate_data(keep_current_for="0"))
    html = again.content.decode()
    assert again.status_code == 200 and "no-store" in again["Cache-Control"]
    assert "This form was already submitted" in html
    assert secret not in html and 'data-testid="client-secret"' not in html and "data:" not in html
    assert f'href="{detail_url(application)}"' in html
    assert snapshot() == before


def test_a_form_token_spent_in_another_organization_links_nothing(
    admin_portal_client, make_application, other_application
):
    rotate_secret(application=other_application[0], actor=COMMAND_LINE, form_token="s" * 43)
    application, _ = make_application()
    html = admin_portal_client.post(rotate_url(application), rotate_data()).content.decode()
    assert "This form was already submitted" in html and "Globex" not in html
    assert application.secrets.count() == 1


def test_two_live_secrets_refuse_the_form_and_nothing_changes(admin_portal_client, make_application):
    application, _ = make_application()
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    assert "already has 2 live secrets" in admin_portal_client.get(rotate_url(application)).content.decode()

    response = admin_portal_client.post(rotate_url(application), rotate_data(keep_current_for="0"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "revoke one of them first" in html
    assert 'data-testid="client-secret"' not in html
    assert snapshot() == before
    # The refusal did not spend the form's token.
    assert not ClientSecret.objects.filter(form_token="s" * 43).exists()


def test_the_two_secrets_refusal_is_said_once_before_and_after_submitting(admin_portal_client, make_application):
    application, _ = make_application()
    rotate_secret(application=application, actor=COMMAND_LINE)
    refusal = "This application already has 2 live secrets: revoke one of them first, then generate a new one."
    assert admin_portal_client.get(rotate_url(application)).content.decode().count(refusal) == 1
    html = admin_portal_client.post(rotate_url(application), rotate_data()).content.decode()
    assert html.count(refusal) == 1
    assert html.count('role="alert"') == 1


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"keep_current_for": "5"}, "keep_current_for", "Choose one of the listed periods."),
        ({"keep_current_for": ""}, "keep_current_for", "Choose one of the listed periods."),
        ({"keep_current_for": "-1"}, "keep_current_for", "Choose one of the listed periods."),
        ({"expires_in_days": "7"}, "expires_in_days", "Choose one of the listed expiry periods."),
        ({"expires_in_days": "731"}, "expires_in_days", "Choose one of the listed expiry periods."),
        ({"form_token": ""}, "form_token", "This form is incomplete or has expired"),
        ({"form_token": "short"}, "form_token", "This form is incomplete or has expired"),
    ],
)
def test_values_outside_the_choices_are_form_errors(admin_portal_client, make_application, overrides, field, message):
    application, _ = make_application()
    before = snapshot()
    response = admin_portal_client.post(rotate_url(application), rotate_data(**overrides))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    if field != "form_token":
        assert re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>{re.escape(message)}', html)
    assert 'data-testid="client-secret"' not in html
    assert snapshot() == before


def test_a_member_posting_to_generate_is_refused_and_nothing_changes(member_client, make_application):
    application, _ = make_application()
    before = snapshot()
    assert member_client.get(rotate_url(application)).status_code == 403
    assert member_client.post(rotate_url(application), rotate_data()).status_code == 403
    assert snapshot() == before


def test_another_organizations_application_is_404(admin_portal_client, other_application):
    application, _ = other_application
    secret = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    assert admin_portal_client.get(rotate_url(application)).status_code == 404
    assert admin_portal_client.post(rotate_url(application), rotate_data()).status_code == 404
    assert admin_portal_client.get(revoke_url(application, secret)).status_code == 404
    assert admin_portal_client.post(revoke_url(application, secret), {"revoke_tokens": "on"}).status_code == 404
    assert snapshot() == before


def test_another_organizations_secret_on_ones_own_application_is_404(
    admin_portal_client, make_application, other_application
):
    application, _ = make_application()
    rotate_secret(application=application, actor=COMMAND_LINE)
    theirs = other_application[0].secrets.get()
    before = snapshot()
    assert admin_portal_client.get(revoke_url(application, theirs)).status_code == 404
    assert admin_portal_client.post(revoke_url(application, theirs), {"revoke_tokens": "on"}).status_code == 404
    unknown = f"/integrations/applications/{application.public_id}/secrets/{uuid.uuid4()}/revoke/"
    assert admin_portal_client.get(unknown).status_code == 404
    assert snapshot() == before


def test_a_rotation_of_a_deleted_application_is_404_and_leaves_no_secret(
    admin_portal_client, make_application, monkeypatch
):
    application, _ = make_application()
    from applications import views

    real = views.rotate_secret

    def delete_first(**kwargs):
        # The application is deleted between the page's lookup and the rotation.
        delete_application(application=Application.objects.get(pk=application.pk), actor=COMMAND_LINE)
        return real(**kwargs)

    monkeypatch.setattr(views, "rotate_secret", delete_first)
    response = admin_portal_client.post(rotate_url(application), rotate_data())
    assert response.status_code == 404
    assert not ClientSecret.objects.exists()


# --- Revoke ----------------------------------------------------------------------------------


def test_the_revoke_page_asks_first_with_revoke_tokens_checked(admin_portal_client, make_application):
    application, _ = make_application()
    first = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE)
    response = admin_portal_client.get(revoke_url(application, first))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Revoke secret …{first.hint} of “Nightly sync”?" in html
    assert re.search(r'<input type="checkbox" name="revoke_tokens" id="id_revoke_tokens" checked>', html)
    assert f'action="{revoke_url(application, first)}"' in html
    first.refresh_from_db()
    assert first.revoked_at is None


def test_revoking_with_revoke_tokens_ends_the_secret_and_its_tokens(
    admin_portal_client, make_application, client, get_token
):
    application, old = make_application()
    first = application.secrets.get()
    old_token = get_token(application, old)
    _, new = rotate_secret(application=application, actor=COMMAND_LINE)
    new_token = get_token(application, new)

    response = admin_portal_client.post(revoke_url(application, first), {"revoke_tokens": "on"})
    assert response.status_code == 302 and response["Location"] == detail_url(application)
    assert_invalid_client(request_token(client, application, old))
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {old_token}").status_code == 401
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {new_token}").status_code == 200
    html = admin_portal_client.get(response["Location"]).content.decode()
    assert f"Secret …{first.hint} revoked: it no longer works; 1 access token issued with it revoked too." in html


def test_revoking_without_revoke_tokens_lets_the_tokens_live(admin_portal_client, make_application, client, get_token):
    application, old = make_application()
    first = application.secrets.get()
    token = get_token(application, old)
    rotate_secret(application=application, actor=COMMAND_LINE)
    admin_portal_client.post(revoke_url(application, first), {})
    assert_invalid_client(request_token(client, application, old))
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_the_only_live_secret_cannot_be_revoked(admin_portal_client, make_application, client, get_token):
    application, secret = make_application()
    row = application.secrets.get()
    page = admin_portal_client.get(revoke_url(application, row)).content.decode()
    assert "cannot be revoked: generate a new secret or add a key first, or delete the application" in page
    assert 'name="revoke_tokens"' not in page

    response = admin_portal_client.post(revoke_url(application, row), {"revoke_tokens": "on"})
    assert response.status_code == 200
    assert (
        "cannot be revoked: generate a new secret or add a key first, or delete the application"
        in response.content.decode()
    )
    row.refresh_from_db()
    assert row.revoked_at is None
    assert request_token(client, application, secret).status_code == 200


def test_an_expired_secret_can_be_revoked_to_end_its_tokens(admin_portal_client, make_application, client, get_token):
    application, old = make_application()
    first = application.secrets.get()
    token = get_token(application, old)
    admin_portal_client.post(rotate_url(application), rotate_data(keep_current_for="0"))
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    page = admin_portal_client.get(revoke_url(application, first))
    html = page.content.decode()
    assert page.status_code == 200
    assert "This secret has expired and gets no more tokens" in html
    assert "cannot be revoked" not in html
    assert re.search(r'<input type="checkbox" name="revoke_tokens" id="id_revoke_tokens" checked>', html)

    response = admin_portal_client.post(revoke_url(application, first), {"revoke_tokens": "on"})
    assert response.status_code == 302 and response["Location"] == detail_url(application)
    refused = client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 401 and 'error="invalid_token"' in refused["WWW-Authenticate"]
    html = admin_portal_client.get(response["Location"]).content.decode()
    assert f"Secret …{first.hint} revoked: it no longer works; 1 access token issued with it revoked too." in html
    assert f'data-secret-id="{first.public_id}"' not in html
    # Revoked, its page is gone.
    assert admin_portal_client.get(revoke_url(application, first)).status_code == 404
    assert admin_portal_client.post(revoke_url(application, first), {"revoke_tokens": "on"}).status_code == 404


def test_an_expired_secret_revoked_without_its_tokens_leaves_them(
    admin_portal_client, make_application, client, get_token
):
    application, old = make_application()
    first = application.secrets.get()
    token = get_token(application, old)
    rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=0)
    assert admin_portal_client.post(revoke_url(application, first), {}).status_code == 302
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_a_member_posting_to_revoke_is_refused_and_nothing_changes(member_client, make_application):
    application, _ = make_application()
    first = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    assert member_client.get(revoke_url(application, first)).status_code == 403
    assert member_client.post(revoke_url(application, first), {"revoke_tokens": "on"}).status_code == 403
    assert snapshot() == before


def test_history_shows_generation_and_revocation(admin_portal_client, make_application, admin_user):
    application, _ = make_application()
    first = application.secrets.get()
    response = admin_portal_client.post(rotate_url(application), rotate_data())
    secret = by_testid(response)["client-secret"]["text"]
    admin_portal_client.post(revoke_url(application, first), {"revoke_tokens": "on"})
    html = admin_portal_client.get(detail_url(application)).content.decode()
    history = html[html.index("<h2>History</h2>") :]
    assert f"Secret generated <code>…{secret[-4:]}</code>" in history
    revoked = f'Secret revoked <code>…{first.hint}</code><br><span class="hint muted">with 0 access tokens</span>'
    assert revoked in history
    assert AuditEvent.objects.filter(actor=admin_user, action__startswith="secret_").count() == 2


# --- The list page's marks -------------------------------------------------------------------


def test_the_list_marks_applications_whose_secrets_expire_soon_or_expired(admin_portal_client, make_application):
    fine, _ = make_application(name="Fine")
    soon, _ = make_application(name="Soon", expires_in_days=30)
    ClientSecret.objects.filter(application=soon).update(expires_at=timezone.now() + timedelta(days=9, hours=1))
    later, _ = make_application(name="Later", expires_in_days=15)
    expired, _ = make_application(name="Expired")
    ClientSecret.objects.filter(application=expired).update(expires_at=timezone.now() - timedelta(minutes=1))
    html = admin_portal_client.get(LIST_URL).content.decode()
    rows = {name: html[html.index(f">{name}</a>") :].split("</tr>")[0] for name in ["Fine", "Soon", "Later", "Expired"]}
    assert "Secret expires in 10 days" in rows["Soon"]
    assert "Secret expired" in rows["Expired"]
    assert "Secret ex" not in rows["Fine"] and "Secret ex" not in rows["Later"]


def test_the_mark_counts_to_the_last_live_secret(admin_portal_client, make_application):
    application, _ = make_application(expires_in_days=30)
    ClientSecret.objects.filter(application=application).update(expires_at=timezone.now() + timedelta(hours=2))
    html = admin_portal_client.get(LIST_URL).content.decode()
    assert "Secret expires in 1 day<" in html
    rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=None, expires_in_days=13)
    assert "Secret expires in 13 days" in admin_portal_client.get(LIST_URL).content.decode()
    ClientSecret.objects.filter(application=application, expires_at__lt=timezone.now() + timedelta(days=1)).update(
        revoked_at=timezone.now()
    )
    rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=None)
    assert "Secret ex" not in admin_portal_client.get(LIST_URL).content.decode()


# --- New form and view page: expiry and token lifetime ------------------------------------


def test_the_new_form_sets_expiry_and_token_lifetime(admin_portal_client, new_application_data):
    html = admin_portal_client.get("/integrations/applications/new/").content.decode()
    lifetimes = options(html, "token_lifetime")
    assert lifetimes == [("300", ""), ("900", ""), ("3600", " selected"), ("43200", ""), ("86400", "")]
    assert '<option value="never" selected>' in html.split('name="expires_in_days"')[1]

    response = admin_portal_client.post(
        "/integrations/applications/new/", new_application_data(expires_in_days="365", token_lifetime="900")
    )
    assert 'data-testid="client-secret"' in response.content.decode()
    application = Application.objects.get()
    row = application.secrets.get()
    assert application.token_lifetime == 900
    assert abs(row.expires_at - (row.created_at + timedelta(days=365))) < timedelta(seconds=1)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"expires_in_days": "1"}, "expires_in_days"),
        ({"token_lifetime": "60"}, "token_lifetime"),
        ({"token_lifetime": "forever"}, "token_lifetime"),
    ],
)
def test_the_new_form_refuses_other_values(admin_portal_client, new_application_data, overrides, field):
    response = admin_portal_client.post("/integrations/applications/new/", new_application_data(**overrides))
    html = response.content.decode()
    assert re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>Choose one of the listed', html)
    assert not Application.objects.exists()


def test_the_view_page_changes_the_token_lifetime(admin_portal_client, make_application, client):
    application, secret = make_application()
    html = admin_portal_client.get(detail_url(application)).content.decode()
    assert '<option value="3600" selected>1 hour</option>' in html
    response = admin_portal_client.post(
        detail_url(application), {"name": "Nightly sync", "description": "", "token_lifetime": "43200"}
    )
    assert response.status_code == 302
    assert request_token(client, application, secret).json()["expires_in"] == 43200
    event = AuditEvent.objects.filter(application=application, action="updated").get()
    assert event.changes == {"token_lifetime": [3600, 43200]}


def test_the_view_page_refuses_another_token_lifetime(admin_portal_client, make_application):
    application, _ = make_application()
    response = admin_portal_client.post(
        detail_url(application), {"name": "Nightly sync", "description": "", "token_lifetime": "7"}
    )
    assert '<ul class="errorlist" id="id_token_lifetime_error"><li>Choose one of the listed lifetimes.' in (
        response.content.decode()
    )
    application.refresh_from_db()
    assert application.token_lifetime is None


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_secret_pages_answer_only_get_and_post(admin_portal_client, make_application, method):
    application, _ = make_application()
    row = application.secrets.get()
    for url in (rotate_url(application), revoke_url(application, row)):
        assert getattr(admin_portal_client, method)(url).status_code == 405


@pytest.mark.django_db
def test_secret_forms_enforce_csrf(admin_membership, make_application):
    application, _ = make_application()
    first = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_membership.user)
    assert client.post(rotate_url(application), rotate_data()).status_code == 403
    assert client.post(revoke_url(application, first), {"revoke_tokens": "on"}).status_code == 403
    assert snapshot() == before

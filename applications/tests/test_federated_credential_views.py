"""The portal's federated credential pages (contract §10): the view page's section, Add federated credential, Revoke,
and the admins' "Test a token"."""

import logging
import re
from html import escape, unescape

import pytest
from django.test import Client
from oauth2_provider.models import get_access_token_model

from applications.models import AuditEvent, FederatedCredential
from applications.services import (
    MAX_FEDERATED_CREDENTIALS,
    add_federated_credential,
    revoke_federated_credential,
    revoke_secret,
)
from applications.tests.issuer_helpers import DISCOVERY_PATH, SUBJECT
from applications.tests.key_helpers import post_assertion, private_key, sign
from portal.actors import COMMAND_LINE
from portal.tests.storage import everything_stored

AccessToken = get_access_token_model()
AUDIENCE = "http://testserver"


def detail_url(application):
    return f"/integrations/applications/{application.public_id}/"


def new_url(application):
    return f"{detail_url(application)}federated-credentials/new/"


def revoke_url(application, credential):
    return f"{detail_url(application)}federated-credentials/{credential.public_id}/revoke/"


def check_url(application, credential):
    return f"{detail_url(application)}federated-credentials/{credential.public_id}/test/"


def add(application, local, **fields):
    fields = {"name": "CI on main", "issuer": local.url, "subject": SUBJECT, "audience": AUDIENCE, **fields}
    return add_federated_credential(application=application, actor=COMMAND_LINE, **fields)


def form(local, **fields):
    return {"name": "CI on main", "issuer": local.url, "subject": SUBJECT, "audience": AUDIENCE, **fields}


def section_of(page: str) -> str:
    start = page.index('data-testid="federated-credentials"')
    return page[start : page.index("</section>", start)]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def trusting(make_application, issuer):
    application, _ = make_application()
    return application, add(application, issuer)


# --- The view page ---------------------------------------------------------------------------------------------------


def test_the_view_page_lists_live_credentials_with_their_facts_and_actions_for_admins(
    admin_portal_client, member_client, trusting, issuer
):
    application, credential = trusting
    revoked = add(application, issuer, name="Gone", subject="repo:octo-org/gone:ref:refs/heads/main")
    revoke_federated_credential(credential=revoked, actor=COMMAND_LINE)

    admin = section_of(admin_portal_client.get(detail_url(application)).content.decode())
    member = section_of(member_client.get(detail_url(application)).content.decode())

    for section in (admin, member):
        assert "CI on main" in section and issuer.url in section and SUBJECT in section and AUDIENCE in section
        assert "Gone" not in section
    for link in (new_url(application), revoke_url(application, credential), check_url(application, credential)):
        assert link in admin
        assert link not in member


def test_with_only_a_federated_credential_left_the_page_says_there_is_no_client_secret(admin_portal_client, trusting):
    application, _ = trusting
    revoke_secret(secret=application.secrets.get(), actor=COMMAND_LINE)

    page = admin_portal_client.get(detail_url(application)).content.decode()
    listing = admin_portal_client.get("/integrations/applications/").content.decode()

    assert "This application has no client secret: it authenticates with its federated credentials." in page
    assert "No live credential is left" not in page
    assert "Secret expired" not in listing


# --- Add federated credential ----------------------------------------------------------------------------------------


def test_the_add_page_prefills_the_audience_and_shows_how_to_fill_it_in(admin_portal_client, make_application):
    application, _ = make_application()

    response = admin_portal_client.get(new_url(application))

    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<input type="text" name="audience" value="http://testserver"', page)
    text = text_of(page)
    assert "https://token.actions.githubusercontent.com" in text
    assert "repo:<owner>/<repo>:ref:refs/heads/<branch>" in text
    assert "repo:<owner>/<repo>:environment:<name>" in text
    assert "project_path:<group>/<project>:ref_type:branch:ref:<branch>" in text  # GitLab CI
    assert "system:serviceaccount:<namespace>:<service account>" in text  # Kubernetes
    job = unescape(re.search(r'<code id="github-actions-job">([^<]+)</code>', page).group(1))
    assert "id-token: write" in job
    assert f'CLIENT_ID: "{application.client_id}"' in job
    assert 'TOKEN_ENDPOINT: "http://testserver/oauth/token"' in job
    assert 'data-copy="github-actions-job"' in page


def test_adding_redirects_to_the_view_page_and_the_workload_gets_tokens(
    admin_portal_client, admin_user, make_application, issuer, client
):
    application, _ = make_application()

    response = admin_portal_client.post(new_url(application), form(issuer))

    assert response.status_code == 302
    assert response["Location"] == detail_url(application)
    credential = FederatedCredential.objects.get()
    assert (credential.name, credential.issuer, credential.subject) == ("CI on main", issuer.url, SUBJECT)
    event = AuditEvent.objects.get(action=AuditEvent.Action.FEDERATED_ADDED)
    assert event.actor_label == admin_user.username
    token = issuer.token(AUDIENCE)
    assert post_assertion(client, token, client_id=application.client_id).status_code == 200


def test_an_issuer_that_cannot_be_read_is_a_form_error_naming_the_url(admin_portal_client, make_application, issuer):
    application, _ = make_application()
    issuer.server.publish(DISCOVERY_PATH, {"message": "Not Found"}, status=404)

    response = admin_portal_client.post(new_url(application), form(issuer))

    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert f"The issuer's keys could not be read: {issuer.url}{DISCOVERY_PATH} answered 404." in page
    assert not FederatedCredential.objects.exists()
    # What was typed stays in the form.
    assert f'value="{escape(SUBJECT)}"' in response.content.decode()


def test_an_http_issuer_not_listed_is_a_form_error(admin_portal_client, make_application, settings, issuer):
    application, _ = make_application()
    settings.FEDERATION_INSECURE_ISSUERS = []

    response = admin_portal_client.post(new_url(application), form(issuer))

    assert "Use an https:// URL" in response.content.decode()
    assert issuer.server.requests == []
    assert not FederatedCredential.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Enter a name."),
        ({"subject": ""}, "Enter the subject."),
        ({"subject": "repo:octo-org/*"}, "* is no wildcard"),
        ({"audience": ""}, "Enter the audience."),
        ({"issuer": "https://issuer.example?x=1"}, "without query"),
    ],
)
def test_a_bad_value_is_a_form_error(admin_portal_client, make_application, issuer, fields, message):
    application, _ = make_application()

    response = admin_portal_client.post(new_url(application), form(issuer, **fields))

    assert response.status_code == 200
    assert message in unescape(response.content.decode())
    assert not FederatedCredential.objects.exists()


def test_a_duplicate_and_the_twenty_first_are_refused_with_a_message(admin_portal_client, make_application, issuer):
    application, _ = make_application()
    add(application, issuer)

    duplicate = admin_portal_client.post(new_url(application), form(issuer))
    for n in range(MAX_FEDERATED_CREDENTIALS - 1):
        add(application, issuer, subject=f"repo:octo-org/repo-{n}:ref:refs/heads/main")
    page = admin_portal_client.get(new_url(application)).content.decode()

    assert "already has a federated credential with this issuer, subject and audience" in duplicate.content.decode()
    assert "already has 20 federated credentials: revoke one of them first" in page
    assert FederatedCredential.objects.count() == MAX_FEDERATED_CREDENTIALS


def test_members_get_403_and_another_organizations_application_404(
    member_client, admin_portal_client, make_application, other_application, issuer
):
    application, _ = make_application()
    credential = add(application, issuer)
    theirs, _ = other_application
    their_credential = add(theirs, issuer, subject="repo:globex/repo:ref:refs/heads/main")

    for url in (new_url(application), revoke_url(application, credential), check_url(application, credential)):
        assert member_client.get(url).status_code == 403
        assert (
            member_client.post(url, {**form(issuer, subject="x"), "revoke_tokens": "on", "token": "a.b.c"}).status_code
            == 403
        )
    for url in (new_url(theirs), revoke_url(theirs, their_credential), check_url(theirs, their_credential)):
        assert admin_portal_client.get(url).status_code == 404
        assert admin_portal_client.post(url, {**form(issuer, subject="y"), "revoke_tokens": "on"}).status_code == 404
    # Their credential under our application's URL is no more found.
    assert admin_portal_client.get(revoke_url(application, their_credential)).status_code == 404
    assert FederatedCredential.objects.filter(revoked_at__isnull=True).count() == 2
    assert FederatedCredential.objects.count() == 2


def test_the_forms_need_the_csrf_token(admin_user, trusting, issuer):
    application, credential = trusting
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)

    for url, data in (
        (new_url(application), form(issuer, subject="repo:octo-org/x:ref:refs/heads/main")),
        (revoke_url(application, credential), {"revoke_tokens": "on"}),
        (check_url(application, credential), {"token": issuer.token(AUDIENCE)}),
    ):
        assert browser.post(url, data).status_code == 403
    assert FederatedCredential.objects.filter(revoked_at__isnull=True).count() == 1


# --- Revoke ----------------------------------------------------------------------------------------------------------


def test_the_revoke_confirmation_has_revoke_tokens_checked_and_ends_the_tokens(
    admin_portal_client, trusting, issuer, client
):
    application, credential = trusting
    access_token = post_assertion(client, issuer.token(AUDIENCE), client_id=application.client_id).json()[
        "access_token"
    ]

    page = admin_portal_client.get(revoke_url(application, credential)).content.decode()
    response = admin_portal_client.post(revoke_url(application, credential), {"revoke_tokens": "on"})

    assert re.search(r'<input type="checkbox" name="revoke_tokens"[^>]* checked', page)
    assert response.status_code == 302 and response["Location"] == detail_url(application)
    credential.refresh_from_db()
    assert credential.revoked_at is not None
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {access_token}").status_code == 401
    listed = admin_portal_client.get(detail_url(application)).content.decode()
    assert "Federated credential “CI on main” revoked: it no longer works; 1 access token issued through it" in (
        unescape(listed)
    )


def test_revoking_with_the_box_unchecked_leaves_the_tokens(admin_portal_client, trusting, issuer, client):
    application, credential = trusting
    access_token = post_assertion(client, issuer.token(AUDIENCE), client_id=application.client_id).json()[
        "access_token"
    ]

    admin_portal_client.post(revoke_url(application, credential), {})

    credential.refresh_from_db()
    assert credential.revoked_at is not None
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {access_token}").status_code == 200


def test_the_last_live_credential_cannot_be_revoked_on_the_page(admin_portal_client, trusting):
    application, credential = trusting
    revoke_secret(secret=application.secrets.get(), actor=COMMAND_LINE)

    page = admin_portal_client.get(revoke_url(application, credential)).content.decode()
    refused = admin_portal_client.post(revoke_url(application, credential), {"revoke_tokens": "on"})

    assert "last live credential and cannot be revoked" in page
    assert 'name="revoke_tokens"' not in page
    assert "last live credential and cannot be revoked" in refused.content.decode()
    credential.refresh_from_db()
    assert credential.revoked_at is None


def test_federated_credential_events_show_in_the_history_and_activity(admin_portal_client, trusting, issuer):
    application, credential = trusting
    admin_portal_client.post(revoke_url(application, credential), {"revoke_tokens": "on"})

    for url in (detail_url(application), "/integrations/activity/"):
        text = text_of(admin_portal_client.get(url).content.decode())
        assert "Federated credential added “CI on main”" in text
        assert f"issuer {issuer.url}, subject {SUBJECT}" in text
        assert f"audience {AUDIENCE}" in text
        assert "Federated credential revoked “CI on main”" in text
        assert "with 0 access tokens" in text


# --- Test a token ----------------------------------------------------------------------------------------------------


def findings_of(page: str) -> dict[str, tuple[bool, str]]:
    return {
        rule: (held == "true", text_of(detail).strip())
        for rule, held, detail in re.findall(
            r'<tr data-rule="(\w+)" data-held="(\w+)">.*?<td data-label="What the token says" class="value">(.*?)</td>',
            page,
            re.DOTALL,
        )
    }


def test_a_matching_token_holds_every_rule_and_is_not_used_up(admin_portal_client, trusting, issuer, client):
    application, credential = trusting
    token = issuer.token(AUDIENCE)

    response = admin_portal_client.post(check_url(application, credential), {"token": token})

    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    found = findings_of(page)
    assert list(found) == ["issuer", "subject", "audience", "expiry", "signature"]
    assert all(held for held, _ in found.values())
    assert "This token would get an access token" in page
    assert not AccessToken.objects.exists()
    # Its jti was not claimed: the workload can still trade it.
    assert post_assertion(client, token, client_id=application.client_id).status_code == 200


@pytest.mark.parametrize(
    ("claims", "rule", "says"),
    [
        (
            {"sub": "repo:octo-org/octo-repo:ref:refs/heads/dev"},
            "subject",
            "“repo:octo-org/octo-repo:ref:refs/heads/dev”",
        ),
        ({"aud": "https://wrong.example"}, "audience", "it must be or hold “http://testserver”"),
        (
            {"iss": "https://token.actions.githubusercontent.com"},
            "issuer",
            "“https://token.actions.githubusercontent.com”",
        ),
        ({"exp": -3600}, "expiry", "The token expired"),
    ],
)
def test_a_token_breaking_a_rule_shows_which(admin_portal_client, trusting, issuer, claims, rule, says):
    import time

    application, credential = trusting
    if "exp" in claims:
        claims = {"exp": int(time.time()) + claims["exp"]}
    audience = claims.pop("aud", AUDIENCE)

    page = admin_portal_client.post(check_url(application, credential), {"token": issuer.token(audience, **claims)})

    found = findings_of(page.content.decode())
    assert found[rule][0] is False
    assert says in found[rule][1]
    assert [name for name, (held, _) in found.items() if not held] == [rule]
    assert "This token would be refused" in page.content.decode()


def test_a_token_signed_by_another_key_fails_the_signature_rule(admin_portal_client, trusting, issuer):
    application, credential = trusting
    forged = sign(private_key("RS256"), issuer.claims(AUDIENCE), kid="not-published")

    found = findings_of(
        admin_portal_client.post(check_url(application, credential), {"token": forged}).content.decode()
    )

    assert found["signature"] == (False, "The issuer publishes no key with the token's kid “not-published”.")
    assert all(held for rule, (held, _) in found.items() if rule != "signature")


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("not a token", "This is not a JWT (three base64url parts joined by dots)."),
        ("eyJhbGciOiJSUzI1NiIsImNyaXQiOlsieCJdfQ.e30.AAAA", "This token cannot be read: crit header."),
        ("W10.e30.AAAA", "This token cannot be read: unreadable header."),
    ],
)
def test_text_that_is_no_readable_token_says_so(admin_portal_client, trusting, token, says):
    application, credential = trusting

    page = admin_portal_client.post(check_url(application, credential), {"token": token}).content.decode()

    assert says in page


@pytest.mark.django_db(transaction=True)
def test_a_tested_token_is_kept_nowhere(admin_portal_client, trusting, issuer, caplog, written_log, log_format):
    caplog.set_level(logging.DEBUG)
    application, credential = trusting
    token = issuer.token(AUDIENCE)
    wrong = issuer.token("https://wrong.example")

    for tested in (token, wrong):
        response = admin_portal_client.post(check_url(application, credential), {"token": tested})
        assert tested not in response.content.decode()  # not even in the re-rendered textarea

    stored = everything_stored(admin_portal_client)
    logged = caplog.text + "\n".join(record.getMessage() for record in caplog.records) + written_log.getvalue()
    for tested in (token, wrong):
        signature = tested.rsplit(".", 1)[1]
        assert tested not in stored and signature not in stored
        assert tested not in logged and signature not in logged

"""The portal's key pages (contract §10): the Public keys section, Add key, Generate key pair and Revoke."""

import base64
import logging
import re

import pytest

from applications.models import AuditEvent, PublicKey
from applications.services import MAX_LIVE_KEYS, add_key, revoke_secret
from applications.tests.key_helpers import claims_for, post_assertion, private_key, private_pem, public_pem, sign
from portal.actors import COMMAND_LINE
from portal.tests.helpers import form_token_of
from portal.tests.storage import everything_stored


def url(application, action="new"):
    return f"/integrations/applications/{application.public_id}/keys/{action}/"


def revoke_url(application, key):
    return f"/integrations/applications/{application.public_id}/keys/{key.public_id}/revoke/"


def key_body_lines(pem: str) -> list[str]:
    """The base64 lines of a PEM: what must appear nowhere once a private key is refused or revealed."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def test_the_view_page_lists_live_keys_with_their_facts_and_actions_for_admins(
    admin_portal_client, member_client, make_application
):
    application, _ = make_application()
    key = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key("RS256")))

    admin_page = admin_portal_client.get(f"/integrations/applications/{application.public_id}/").content.decode()
    member_page = member_client.get(f"/integrations/applications/{application.public_id}/").content.decode()

    for page in (admin_page, member_page):
        section = page[page.index('data-testid="public-keys"') :]
        assert key.kid in section and "RS256" in section
    assert revoke_url(application, key) in admin_page and url(application) in admin_page
    assert url(application, "generate") in admin_page
    assert revoke_url(application, key) not in member_page and url(application) not in member_page


def test_adding_a_key_redirects_to_the_view_page_and_records_it(admin_portal_client, make_application, client):
    application, _ = make_application()
    private = private_key()

    response = admin_portal_client.post(url(application), {"public_key": public_pem(private), "expires_in_days": "90"})

    assert response.status_code == 302
    assert response["Location"] == f"/integrations/applications/{application.public_id}/"
    key = PublicKey.objects.get()
    assert key.expires_at is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_ADDED, application=application).exists()
    assert post_assertion(client, sign(private, claims_for(application.client_id))).status_code == 200


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (lambda: public_pem(private_key("RS256", bits=1024)), "This RSA key has 1024 bits"),
        (lambda: "not a key", "This is not a public key"),
    ],
)
def test_a_refused_key_is_a_form_error(admin_portal_client, make_application, value, message):
    application, _ = make_application()

    response = admin_portal_client.post(url(application), {"public_key": value(), "expires_in_days": "never"})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PublicKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_pasted_private_key_is_refused_and_is_nowhere_afterwards(
    admin_portal_client, make_application, caplog, written_log, log_format
):
    caplog.set_level(logging.DEBUG)
    application, _ = make_application()
    pem = private_pem(private_key())

    response = admin_portal_client.post(url(application), {"public_key": pem, "expires_in_days": "never"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "This is a private key" in page
    stored = everything_stored(admin_portal_client)
    logged = caplog.text + "\n".join(record.getMessage() for record in caplog.records) + written_log.getvalue()
    for line in key_body_lines(pem):
        assert line not in page  # not even in the re-rendered textarea
        assert line not in stored
        assert line not in logged
    assert not PublicKey.objects.exists()


def test_members_cannot_add_keys_and_another_organizations_application_is_404(
    member_client, admin_portal_client, make_application, other_application
):
    application, _ = make_application()
    pem = public_pem(private_key())

    assert member_client.post(url(application), {"public_key": pem}).status_code == 403
    theirs, _ = other_application
    assert admin_portal_client.get(url(theirs)).status_code == 404
    assert admin_portal_client.post(url(theirs), {"public_key": pem}).status_code == 404
    assert admin_portal_client.get(url(theirs, "generate")).status_code == 404
    assert not PublicKey.objects.exists()


def test_at_five_live_keys_the_form_says_to_revoke_one_first(admin_portal_client, make_application):
    application, _ = make_application()
    for _ in range(MAX_LIVE_KEYS):
        add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))

    response = admin_portal_client.post(url(application), {"public_key": public_pem(private_key())})

    assert "already has 5 live keys: revoke one of them first" in response.content.decode()
    assert PublicKey.objects.count() == MAX_LIVE_KEYS


def generate(client, application, **fields):
    page = client.get(url(application, "generate")).content.decode()
    data = {"expires_in_days": "never", "form_token": form_token_of(page), **fields}
    return client.post(url(application, "generate") + "?generate", data), data


@pytest.mark.django_db(transaction=True)
def test_generate_reveals_the_private_key_once_and_keeps_only_the_public_key(
    admin_portal_client, make_application, client, caplog
):
    caplog.set_level(logging.DEBUG)
    application, _ = make_application(name="Nightly sync")

    response, data = generate(admin_portal_client, application)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    key = PublicKey.objects.get()
    assert f'data-testid="key-id">{key.kid}<' in page
    private = re.search(r'data-testid="private-key">([^<]+)<', page).group(1)
    assert private.startswith("-----BEGIN PRIVATE KEY-----")
    link = re.search(r'data-testid="download-private-key" href="([^"]+)" download="([^"]+)"', page)
    assert link.group(2) == f"nightly-sync-{key.kid[:8]}.pem"
    assert base64.b64decode(link.group(1).split(",", 1)[1]).decode() == private
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    signer = load_pem_private_key(private.encode(), None)
    assert post_assertion(client, sign(signer, claims_for(application.client_id))).status_code == 200

    again = admin_portal_client.post(url(application, "generate") + "?generate", data)
    assert again.status_code == 200
    assert "BEGIN PRIVATE KEY" not in again.content.decode()
    assert PublicKey.objects.count() == 1
    stored = everything_stored(admin_portal_client)
    logged = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    for line in key_body_lines(private):
        assert line not in stored and line not in logged


def test_the_revoke_confirmation_has_revoke_tokens_checked_and_revokes(admin_portal_client, make_application):
    application, _ = make_application()
    key = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))

    page = admin_portal_client.get(revoke_url(application, key)).content.decode()
    assert re.search(r'<input type="checkbox" name="revoke_tokens"[^>]* checked', page)
    response = admin_portal_client.post(revoke_url(application, key), {"revoke_tokens": "on"})

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_REVOKED).exists()


def test_the_last_live_credential_cannot_be_revoked_on_the_page(admin_portal_client, make_application):
    application, _ = make_application()
    key = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    revoke_secret(secret=application.secrets.get(), actor=COMMAND_LINE)

    page = admin_portal_client.get(revoke_url(application, key)).content.decode()
    refused = admin_portal_client.post(revoke_url(application, key), {"revoke_tokens": "on"})

    assert "last live credential and cannot be revoked" in page
    assert 'name="revoke_tokens"' not in page
    assert "last live credential and cannot be revoked" in refused.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_only_secret_may_be_revoked_while_a_key_remains_and_the_page_says_so(admin_portal_client, make_application):
    application, secret = make_application()
    add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    row = application.secrets.get()

    response = admin_portal_client.post(
        f"/integrations/applications/{application.public_id}/secrets/{row.public_id}/revoke/", {"revoke_tokens": "on"}
    )

    assert response.status_code == 302
    page = admin_portal_client.get(f"/integrations/applications/{application.public_id}/").content.decode()
    assert "This application has no client secret" in page
    assert "No live credential is left" not in page
    listing = admin_portal_client.get("/integrations/applications/").content.decode()
    assert "Secret expired" not in listing


def test_key_events_show_in_the_application_history_and_activity(admin_portal_client, make_application):
    application, _ = make_application()
    key = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    admin_portal_client.post(revoke_url(application, key), {"revoke_tokens": "on"})

    for page in (f"/integrations/applications/{application.public_id}/", "/integrations/activity/"):
        html = admin_portal_client.get(page).content.decode()
        assert "Key added" in html and "Key revoked" in html
        assert f"<code>{key.kid}</code>" in html
        assert "with 0 access tokens" in html

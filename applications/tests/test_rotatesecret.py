"""`manage.py rotatesecret` (contract §1): a new secret exactly as the portal's "Generate new secret"."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from applications.identifiers import is_well_formed
from applications.models import AuditEvent, ClientSecret
from applications.services import rotate_secret
from applications.tests.oauth_helpers import request_token
from portal.actors import COMMAND_LINE


def run(*args) -> str:
    out = StringIO()
    call_command("rotatesecret", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return list(ClientSecret.objects.order_by("pk").values())


def test_json_prints_the_new_secret_once_with_its_id_and_expiry(client, make_application, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example"
    application, old = make_application()
    result = json.loads(
        run("--organization", "acme-corp", "--application", "Nightly sync", "--expires-in-days", "30", "--json")
    )
    assert set(result) == {"client_id", "client_secret", "secret_id", "expires_at", "token_endpoint"}
    assert result["client_id"] == application.client_id
    assert result["token_endpoint"] == "https://portal.example/oauth/token"
    assert is_well_formed(result["client_secret"], "ipcs_")
    row = ClientSecret.objects.get(public_id=result["secret_id"])
    assert parse_datetime(result["expires_at"]) == row.expires_at
    assert abs(row.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(seconds=5)
    assert request_token(client, application, result["client_secret"]).status_code == 200
    # The current secret keeps working for the portal's default day.
    assert request_token(client, application, old).status_code == 200
    old_row = application.secrets.exclude(pk=row.pk).get()
    assert timedelta(hours=23) < old_row.expires_at - timezone.now() <= timedelta(days=1)
    assert AuditEvent.objects.filter(action="secret_generated", actor_label="command line").count() == 1


def test_the_application_may_be_named_by_client_id_and_keep_current_for_zero_ends_the_old_secret(
    client, make_application
):
    application, old = make_application()
    result = json.loads(
        run("--organization", "Acme Corp", "--application", application.client_id, "--keep-current-for", "0", "--json")
    )
    assert result["expires_at"] is None
    assert request_token(client, application, old).status_code == 401
    assert request_token(client, application, result["client_secret"]).status_code == 200


@pytest.mark.parametrize("spelled", ["STRASSE-SYNC", "straße-sync", "ＳＴＲＡＳＳＥ-sync"])
def test_the_application_is_found_by_its_name_as_the_portal_tells_names_apart(make_application, spelled):
    application, _ = make_application(name="Straße-Sync")

    result = json.loads(run("--organization", "acme-corp", "--application", spelled, "--json"))

    assert result["client_id"] == application.client_id


def test_plain_output_names_the_secret_and_says_it_is_shown_once(make_application):
    make_application()
    output = run("--organization", "acme-corp", "--application", "nightly sync", "--keep-current-for", "forever")
    assert "client_secret: ipcs_" in output and "shown this once" in output
    assert [row.expires_at for row in ClientSecret.objects.all()] == [None, None]


def test_expires_in_days_never_is_spelled_as_in_the_portals_form(make_application):
    make_application()
    result = json.loads(
        run("--organization", "acme-corp", "--application", "Nightly sync", "--expires-in-days", "never", "--json")
    )
    assert result["expires_at"] is None
    assert ClientSecret.objects.get(public_id=result["secret_id"]).expires_at is None


def test_two_live_secrets_exit_non_zero_print_no_secret_and_change_nothing(make_application):
    application, _ = make_application()
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    # CommandError is how a management command exits with status 1 and its message on stderr.
    with pytest.raises(CommandError, match="revoke one of them first") as refused:
        out = StringIO()
        call_command(
            "rotatesecret", "--organization", "acme-corp", "--application", "Nightly sync", "--json", stdout=out
        )
    assert "ipcs_" not in out.getvalue() and "ipcs_" not in str(refused.value)
    assert snapshot() == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["--organization", "Nope", "--application", "Nightly sync"], "No organization"),
        (["--organization", "acme-corp", "--application", "Nope"], "No application"),
        (
            ["--organization", "acme-corp", "--application", "Nightly sync", "--keep-current-for", "604801"],
            "keep_current_for",
        ),
        (["--organization", "acme-corp", "--application", "Nightly sync", "--expires-in-days", "0"], "expires_in_days"),
        (
            ["--organization", "acme-corp", "--application", "Nightly sync", "--keep-current-for", "soon"],
            "invalid keep_current_for value: 'soon'",
        ),
        (
            ["--organization", "acme-corp", "--application", "Nightly sync", "--expires-in-days", "forever"],
            "invalid expires_in_days value: 'forever'",
        ),
    ],
)
def test_errors_exit_non_zero_and_change_nothing(make_application, args, message):
    make_application()
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert snapshot() == before


def test_another_organizations_application_is_not_found(make_application, other_organization):
    make_application(name="Globex sync", organization=other_organization)
    with pytest.raises(CommandError, match="No application"):
        run("--organization", "acme-corp", "--application", "Globex sync")

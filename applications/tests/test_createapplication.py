import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from applications.models import Application


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_createapplication_json_prints_working_credentials_once(client, organization):
    output = run(
        "createapplication",
        "--organization",
        "acme-corp",
        "--name",
        "Nightly sync",
        "--scopes",
        "read:credentials create:credentials",
        "--json",
    )

    result = json.loads(output)
    assert set(result) == {"client_id", "client_secret", "scopes", "token_endpoint"}
    assert result["scopes"] == "read:credentials create:credentials"
    assert result["token_endpoint"].endswith("/oauth/token")
    application = Application.objects.get(client_id=result["client_id"])
    assert application.client_secret != result["client_secret"]
    response = client.post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": result["client_id"],
            "client_secret": result["client_secret"],
        },
        content_type="application/json",
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_createapplication_plain_output_names_both_credentials(organization):
    output = run("createapplication", "--organization", "Acme Corp", "--name", "App", "--scopes", "read:credentials")

    assert "client_id: " in output and "client_secret: " in output


@pytest.mark.django_db
@pytest.mark.parametrize(
    "organization_name, scopes, message",
    [
        ("Nope", "read:credentials", "No organization"),
        ("Acme Corp", "root", "Unknown scope"),
        ("Acme Corp", "", "at least one"),
    ],
)
def test_createapplication_errors(organization, organization_name, scopes, message):
    with pytest.raises(CommandError, match=message):
        run("createapplication", "--organization", organization_name, "--name", "App", "--scopes", scopes)

    assert not Application.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "first, second", [("Nightly sync", "Ｎｉｇｈｔｌｙ sync"), ("FILE", "ﬁle"), ("Straße", "STRASSE")]
)
def test_createapplication_refuses_a_look_alike_name(organization, first, second):
    run("createapplication", "--organization", "Acme Corp", "--name", first, "--scopes", "read:credentials")

    with pytest.raises(CommandError, match="An application with this name already exists"):
        run("createapplication", "--organization", "Acme Corp", "--name", second, "--scopes", "read:credentials")

    assert list(Application.objects.values_list("name", flat=True)) == [first]

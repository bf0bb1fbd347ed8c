import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from applications.models import Application
from portal.models import Membership, Organization

PASSWORD = "S3cure-and-long"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def createorgadmin(organization="Acme Corp", username="alice", password=PASSWORD):
    return run(
        "createorgadmin",
        "--organization",
        organization,
        "--username",
        username,
        "--email",
        f"{username}@example.com",
        "--password",
        password,
    )


@pytest.mark.django_db
def test_createorgadmin_creates_organization_user_and_admin_membership():
    createorgadmin()

    organization = Organization.objects.get()
    user = get_user_model().objects.get()
    assert (organization.name, organization.slug) == ("Acme Corp", "acme-corp")
    assert user.email == "alice@example.com"
    assert user.check_password(PASSWORD)
    assert Membership.objects.get().role == Membership.Role.ADMIN


@pytest.mark.django_db
def test_createorgadmin_twice_is_harmless_and_accepts_the_slug():
    createorgadmin()
    createorgadmin(organization="acme-corp")

    assert Organization.objects.count() == 1
    assert get_user_model().objects.count() == 1
    assert Membership.objects.count() == 1


@pytest.mark.django_db
def test_createorgadmin_promotes_an_existing_member():
    createorgadmin()
    Membership.objects.update(role=Membership.Role.MEMBER)

    createorgadmin()

    assert Membership.objects.get().role == Membership.Role.ADMIN


@pytest.mark.django_db
@pytest.mark.parametrize("look_alike", ["ALICE", "ＡＬＩＣＥ", "Alice"])
def test_createorgadmin_refuses_a_look_alike_of_another_users_name(look_alike):
    createorgadmin()

    with pytest.raises(CommandError, match="A user named 'alice' already exists"):
        createorgadmin(organization="Globex", username=look_alike)

    assert list(get_user_model().objects.values_list("username", flat=True)) == ["alice"]
    assert not Organization.objects.filter(name="Globex").exists()


@pytest.mark.django_db
def test_createorgadmin_stores_the_name_nfkc_normalized_as_the_forms_do():
    createorgadmin(username="ｂｏｂ")

    assert get_user_model().objects.get().username == "bob"
    createorgadmin(username="bob")
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_createorgadmin_refuses_a_weak_password():
    with pytest.raises(CommandError):
        createorgadmin(password="123")

    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_createapplication_json_prints_working_credentials_once(client):
    createorgadmin()

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
def test_createapplication_plain_output_names_both_credentials():
    createorgadmin()

    output = run("createapplication", "--organization", "Acme Corp", "--name", "App", "--scopes", "read:credentials")

    assert "client_id: " in output and "client_secret: " in output


@pytest.mark.django_db
@pytest.mark.parametrize(
    "organization, scopes, message",
    [
        ("Nope", "read:credentials", "No organization"),
        ("Acme Corp", "root", "Unknown scope"),
        ("Acme Corp", "", "at least one"),
    ],
)
def test_createapplication_errors(organization, scopes, message):
    createorgadmin()

    with pytest.raises(CommandError, match=message):
        run("createapplication", "--organization", organization, "--name", "App", "--scopes", scopes)

    assert not Application.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "first, second", [("Nightly sync", "Ｎｉｇｈｔｌｙ sync"), ("FILE", "ﬁle"), ("Straße", "STRASSE")]
)
def test_createapplication_refuses_a_look_alike_name(first, second):
    createorgadmin()
    run("createapplication", "--organization", "Acme Corp", "--name", first, "--scopes", "read:credentials")

    with pytest.raises(CommandError, match="An application with this name already exists"):
        run("createapplication", "--organization", "Acme Corp", "--name", second, "--scopes", "read:credentials")

    assert list(Application.objects.values_list("name", flat=True)) == [first]


@pytest.mark.django_db
def test_ensuredemo_prints_a_generated_password_only_the_first_time():
    first = run("ensuredemo")
    second = run("ensuredemo")

    password = first.split("password: ")[1].split()[0]
    user = get_user_model().objects.get(username="admin")
    assert user.check_password(password)
    assert password not in second
    assert Membership.objects.get(user=user).role == Membership.Role.ADMIN


@pytest.mark.django_db
def test_ensuredemo_refuses_to_make_a_look_alike_of_another_users_name():
    get_user_model().objects.create_user(username="ADMIN", password=PASSWORD)

    with pytest.raises(CommandError, match="A user named 'ADMIN' already exists"):
        run("ensuredemo")

    assert list(get_user_model().objects.values_list("username", flat=True)) == ["ADMIN"]

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

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

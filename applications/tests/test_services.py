from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from applications import services
from applications.models import Application
from applications.services import create_application, delete_application, record_use, update_application
from portal.actors import COMMAND_LINE, Actor
from portal.models import Membership
from portal.tests.factories import MembershipFactory
from portal.tests.helpers import at_once, hold_first_call
from portal.tests.storage import everything_stored
from testing.databases import two_writers_at_once


def test_create_returns_the_plaintext_once_and_stores_only_a_hash(organization, admin_membership):
    application, secret = create_application(
        organization=organization,
        name="Nightly sync",
        description="Copies credentials every night.",
        scopes=["create:credentials", "read:credentials"],
        actor=Actor.for_member(admin_membership),
    )

    stored = Application.objects.get(pk=application.pk)
    row = stored.secrets.get()
    assert len(secret) >= 43  # at least 256 bits of entropy
    assert row.secret_hash != secret and stored.client_secret != secret
    assert secret not in everything_stored()
    assert identify_hasher(row.secret_hash).algorithm == "sha256_salted"
    assert check_password(secret, row.secret_hash)
    # The toolkit's own column authenticates nothing: the secret rows are the client's secrets.
    assert not check_password(secret, stored.client_secret)
    assert not check_password(secret + "x", stored.client_secret)
    assert stored.scopes == "read:credentials create:credentials"  # catalog order
    assert stored.client_type == Application.CLIENT_CONFIDENTIAL
    assert stored.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert stored.created_by == admin_membership.user
    assert stored.organization == organization


def test_two_applications_get_different_credentials(make_application):
    first, first_secret = make_application(name="One")
    second, second_secret = make_application(name="Two")

    assert first.client_id != second.client_id
    assert first_secret != second_secret
    assert first.client_secret.split("$")[1] != second.client_secret.split("$")[1]  # salts differ


@pytest.mark.parametrize(
    "name, error",
    [("", "Enter a name."), ("   ", "Enter a name."), ("x" * 101, "Use at most 100 characters.")],
)
def test_create_rejects_a_bad_name(organization, name, error):
    with pytest.raises(ValidationError) as raised:
        create_application(organization=organization, name=name, scopes=["read:credentials"], actor=COMMAND_LINE)

    assert raised.value.message_dict == {"name": [error]}
    assert Application.objects.count() == 0


def test_names_are_unique_in_an_organization_ignoring_case(make_application):
    make_application(name="Nightly sync")

    with pytest.raises(ValidationError) as raised:
        make_application(name="  NIGHTLY SYNC ")

    assert "already exists" in raised.value.message_dict["name"][0]
    assert Application.objects.count() == 1


# Equal after Unicode NFKC normalization and case folding: fullwidth letters, a ligature, a sharp s.
LOOKALIKES = [("Nightly sync", "Ｎｉｇｈｔｌｙ sync"), ("FILE", "ﬁle"), ("Straße", "STRASSE")]


@pytest.mark.parametrize("first, second", LOOKALIKES)
def test_look_alike_names_are_the_same_name(make_application, admin_membership, first, second):
    make_application(name=first)
    renamed, _ = make_application(name="Something else")

    with pytest.raises(ValidationError) as created:
        make_application(name=second)
    with pytest.raises(ValidationError) as updated:
        update_application(application=renamed, actor=Actor.for_member(admin_membership), name=second)

    for raised in (created, updated):
        assert raised.value.message_dict == {
            "name": ["An application with this name already exists in the organization."]
        }
    assert sorted(Application.objects.values_list("name", flat=True)) == sorted([first, "Something else"])


@two_writers_at_once
@pytest.mark.django_db(transaction=True)
def test_two_look_alike_names_created_at_once_leave_one(organization, monkeypatch):
    # Both pass the name check before either inserts: the unique key settles it.
    gate = hold_first_call(monkeypatch, services, "_clean_name")

    def create(name):
        def run():
            try:
                return create_application(
                    organization=organization, name=name, scopes=["read:credentials"], actor=COMMAND_LINE
                )[0]
            except ValidationError as error:
                return error.message_dict

        return run

    results = at_once(create("Straße"), create("STRASSE"), meanwhile=gate.overlap)

    refusals = [result for result in results if isinstance(result, dict)]
    assert refusals == [{"name": ["An application with this name already exists in the organization."]}]
    assert Application.objects.count() == 1


def test_the_same_name_is_fine_in_another_organization(make_application, other_organization):
    make_application(name="Nightly sync")
    make_application(name="Nightly sync", organization=other_organization)

    assert Application.objects.count() == 2


@pytest.mark.parametrize(
    "scopes, error",
    [([], "Choose at least one scope."), (["read:credentials", "admin:all"], "Unknown scope: admin:all.")],
)
def test_create_rejects_bad_scopes(organization, scopes, error):
    with pytest.raises(ValidationError) as raised:
        create_application(organization=organization, name="App", scopes=scopes, actor=COMMAND_LINE)

    assert raised.value.message_dict == {"scopes": [error]}
    assert Application.objects.count() == 0


def test_members_may_not_create(organization, member_membership):
    with pytest.raises(PermissionDenied):
        create_application(
            organization=organization,
            name="App",
            scopes=["read:credentials"],
            actor=Actor.for_member(member_membership),
        )

    assert Application.objects.count() == 0


def test_an_admin_of_another_organization_may_not_create(organization, other_organization):
    outsider = MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN)

    with pytest.raises(PermissionDenied):
        create_application(
            organization=organization, name="App", scopes=["read:credentials"], actor=Actor.for_member(outsider)
        )


def test_update_changes_name_and_description_but_never_scopes(make_application, admin_membership):
    application, _ = make_application(scopes=["read:credentials"])

    update_application(
        application=application, actor=Actor.for_member(admin_membership), name="Renamed", description="New"
    )

    application.refresh_from_db()
    assert (application.name, application.description, application.scopes) == ("Renamed", "New", "read:credentials")


def test_update_keeps_the_row_unchanged_when_refused(make_application, member_membership):
    application, _ = make_application(name="Original")

    with pytest.raises(PermissionDenied):
        update_application(application=application, actor=Actor.for_member(member_membership), name="Renamed")

    application.refresh_from_db()
    assert application.name == "Original"


def test_update_may_keep_its_own_name(make_application, admin_membership):
    application, _ = make_application(name="Original")

    update_application(application=application, actor=Actor.for_member(admin_membership), name="original")

    application.refresh_from_db()
    assert application.name == "original"


def test_update_rejects_another_applications_name(make_application, admin_membership):
    make_application(name="Taken")
    application, _ = make_application(name="Mine")

    with pytest.raises(ValidationError):
        update_application(application=application, actor=Actor.for_member(admin_membership), name="taken")


def test_delete_removes_the_application_and_its_tokens(make_application, admin_membership, get_token):
    from oauth2_provider.models import AccessToken

    application, secret = make_application()
    get_token(application, secret)

    delete_application(application=application, actor=Actor.for_member(admin_membership))

    assert not Application.objects.exists()
    assert not AccessToken.objects.exists()


def test_members_may_not_delete(make_application, member_membership):
    application, _ = make_application()

    with pytest.raises(PermissionDenied):
        delete_application(application=application, actor=Actor.for_member(member_membership))

    assert Application.objects.count() == 1


def test_record_use_writes_at_most_once_a_minute(make_application, django_assert_num_queries):
    application, _ = make_application()

    with django_assert_num_queries(1):
        record_use(application)
    with django_assert_num_queries(0):
        record_use(application)

    application.last_used_at -= timedelta(minutes=2)
    with django_assert_num_queries(1):
        record_use(application)
    assert timezone.now() - Application.objects.get().last_used_at < timedelta(seconds=5)

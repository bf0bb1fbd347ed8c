import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

FIRST = [("portal", "0001_initial"), ("applications", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_migrations_run_forward_over_a_populated_database():
    executor = MigrationExecutor(connection)
    executor.migrate(FIRST)
    old = executor.loader.project_state(FIRST).apps

    User = old.get_model("auth", "User")
    organization = old.get_model("portal", "Organization").objects.create(name="Acme", slug="acme")
    user = User.objects.create(username="alice", password="!")
    old.get_model("portal", "Membership").objects.create(user=user, organization=organization, role="admin")
    second = User.objects.create(username="bob", password="!")
    old.get_model("portal", "Membership").objects.create(user=second, organization=organization, role="member")
    application = old.get_model("applications", "Application").objects.create(
        organization=organization,
        name="Nightly sync",
        scopes="read:credentials",
        client_id="client-1",
        client_secret="sha256_salted$salt$digest",
        client_type="confidential",
        authorization_grant_type="client-credentials",
        created_by=user,
    )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from applications.models import Application

    migrated = Application.objects.get(pk=application.pk)
    assert (migrated.name, migrated.scopes) == ("Nightly sync", "read:credentials")
    # The secret's hash moved to the application's one secret row, and left the toolkit's column.
    row = migrated.secrets.get()
    assert (row.secret_hash, row.hint, row.expires_at, row.revoked_at) == ("sha256_salted$salt$digest", "", None, None)
    assert row.created_at == migrated.created
    assert migrated.client_secret.startswith("sha256_salted$") and migrated.client_secret != "sha256_salted$salt$digest"
    assert migrated.token_lifetime is None
    assert migrated.organization.slug == "acme"
    assert migrated.created_by.username == "alice"

    from portal.models import Membership

    public_ids = set(Membership.objects.values_list("public_id", flat=True))
    assert len(public_ids) == 2 and None not in public_ids


@pytest.mark.django_db(transaction=True)
def test_an_existing_client_keeps_working_after_its_secret_moves_to_a_row(client):
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from applications.tests.oauth_helpers import request_token

    before = [("applications", "0003_auditevent"), ("oauth2_provider", "0022_refreshtoken_token_family_index")]
    executor = MigrationExecutor(connection)
    executor.migrate([("applications", "0003_auditevent")])
    executor.loader.build_graph()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    organization = old.get_model("portal", "Organization").objects.create(name="Acme", slug="acme")
    legacy_secret = "L" * 64  # the toolkit's old format: no ipcs_ prefix, no checksum
    application = old.get_model("applications", "Application").objects.create(
        organization=organization,
        name="Legacy",
        scopes="read:credentials",
        client_id="legacy-client",
        client_secret=make_password(legacy_secret, hasher="sha256_salted"),
        client_type="confidential",
        authorization_grant_type="client-credentials",
    )
    token = old.get_model("oauth2_provider", "AccessToken").objects.create(
        application_id=application.pk,
        token="",
        token_checksum="c" * 64,
        scope="read:credentials",
        expires=timezone.now() + timedelta(hours=1),
    )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from applications.models import Application, IssuedToken

    migrated = Application.objects.get(pk=application.pk)
    row = migrated.secrets.get()
    assert IssuedToken.objects.get(access_token_id=token.pk).secret == row
    response = request_token(client, migrated, legacy_secret)
    assert response.status_code == 200, response.content
    row.refresh_from_db()
    assert row.last_used_at is not None
    assert request_token(client, migrated, "L" * 63 + "M").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_every_migration_reverses_and_applies_again():
    executor = MigrationExecutor(connection)
    executor.migrate([("portal", None), ("applications", None), ("api", None)])
    executor.loader.build_graph()
    assert not {"portal_organization", "applications_application"} & set(connection.introspection.table_names())

    executor.migrate(executor.loader.graph.leaf_nodes())

    executor.loader.build_graph()
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []


@pytest.mark.django_db(transaction=True)
def test_older_look_alike_names_keep_working_and_no_new_look_alike_is_taken():
    from django.core.exceptions import ValidationError

    before = [("applications", "0005_secret_rows_from_application_hashes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Organization = old.get_model("portal", "Organization")
    acme = Organization.objects.create(name="Acme", slug="acme")
    globex = Organization.objects.create(name="Globex", slug="globex")

    def legacy(organization, name):
        return old.get_model("applications", "Application").objects.create(
            organization=organization,
            name=name,
            scopes="read:credentials",
            client_id=f"client-{organization.slug}-{name}",
            client_secret="sha256_salted$salt$digest",
            client_type="confidential",
            authorization_grant_type="client-credentials",
        )

    first, look_alike, elsewhere = legacy(acme, "Straße"), legacy(acme, "STRASSE"), legacy(globex, "strasse")

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from applications.models import Application
    from applications.services import create_application
    from portal.actors import COMMAND_LINE
    from portal.models import Organization as CurrentOrganization
    from portal.names import name_digest

    keys = dict(Application.objects.values_list("pk", "name_key"))
    assert keys == {first.pk: name_digest("strasse"), look_alike.pk: None, elsewhere.pk: name_digest("strasse")}
    with pytest.raises(ValidationError):
        create_application(
            organization=CurrentOrganization.objects.get(pk=acme.pk),
            name="STRAẞE",
            scopes=["read:credentials"],
            actor=COMMAND_LINE,
        )
    assert Application.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_secret_issued_before_lookup_keys_can_still_be_revoked_as_leaked():
    from django.contrib.auth.hashers import make_password

    from applications.identifiers import generate_client_secret
    from applications.leaks import revoke_reported
    from portal.actors import Actor

    before = [("applications", "0006_application_name_key")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    organization = old.get_model("portal", "Organization").objects.create(name="Acme", slug="acme")
    application = old.get_model("applications", "Application").objects.create(
        organization=organization,
        name="Older",
        scopes="read:credentials",
        client_id="older-client",
        client_secret="sha256_salted$salt$digest",
        client_type="confidential",
        authorization_grant_type="client-credentials",
    )
    secret, pre_hint_secret = generate_client_secret(), "L" * 64
    ClientSecret = old.get_model("applications", "ClientSecret")
    for value, hint in ((secret, secret[-4:]), (pre_hint_secret, "")):
        ClientSecret.objects.create(
            application=application, secret_hash=make_password(value, hasher="sha256_salted"), hint=hint
        )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from applications.models import ClientSecret as CurrentClientSecret

    # Its plaintext was never kept, so it is found by its hint; one issued before hints cannot be found at all.
    keys = sorted(CurrentClientSecret.objects.values_list("lookup_key", flat=True), key=str)
    assert keys == [None, f"hint:{secret[-4:]}"]
    revoked = revoke_reported(token=secret, url="https://github.com/o/r/blob/c/f", actor=Actor.server("test"))
    assert revoked is not None and revoked.credential == f"client secret …{secret[-4:]}"
    assert CurrentClientSecret.objects.get(hint=secret[-4:]).revoked_at is not None

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
    assert (migrated.name, migrated.client_secret, migrated.scopes) == ("Nightly sync", "sha256_salted$salt$digest", "read:credentials")
    assert migrated.organization.slug == "acme"
    assert migrated.created_by.username == "alice"

    from portal.models import Membership

    public_ids = set(Membership.objects.values_list("public_id", flat=True))
    assert len(public_ids) == 2 and None not in public_ids

@pytest.mark.django_db(transaction=True)
def test_every_migration_reverses_and_applies_again():
    executor = MigrationExecutor(connection)
    executor.migrate([("portal", None), ("applications", None), ("api", None)])
    executor.loader.build_graph()
    assert not {"portal_organization", "applications_application"} & set(connection.introspection.table_names())

    executor.migrate(executor.loader.graph.leaf_nodes())

    executor.loader.build_graph()
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []

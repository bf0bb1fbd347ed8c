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

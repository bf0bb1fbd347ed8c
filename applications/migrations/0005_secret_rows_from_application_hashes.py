import secrets

from django.contrib.auth.hashers import identify_hasher, make_password
from django.db import migrations

CLIENT_SECRET_HASHER = "sha256_salted"
BATCH = 2000


def move_secrets_to_rows(apps, schema_editor):
    """Each application's secret becomes its one secret row, so its clients keep working unchanged.

    Its existing tokens are recorded as issued with that secret (it was the only one), and the
    toolkit's column gets the hash of a value nobody keeps: a revoked secret must not live on there.
    """
    Application = apps.get_model("applications", "Application")
    ClientSecret = apps.get_model("applications", "ClientSecret")
    IssuedToken = apps.get_model("applications", "IssuedToken")
    AccessToken = apps.get_model("oauth2_provider", "AccessToken")
    for application in Application.objects.filter(secrets__isnull=True).iterator():
        stored = application.client_secret
        try:
            identify_hasher(stored)
        except ValueError:  # a secret kept in clear (hash_client_secret off): keep only its hash
            stored = make_password(stored, hasher=CLIENT_SECRET_HASHER)
        row = ClientSecret.objects.create(
            application=application,
            secret_hash=stored,
            hint="",  # the hash cannot tell its last characters
            created_at=application.created,
            last_used_at=application.last_used_at,
        )
        token_ids = AccessToken.objects.filter(application_id=application.pk).values_list("pk", flat=True)
        batch = []
        for token_id in token_ids.iterator():
            batch.append(IssuedToken(access_token_id=token_id, secret=row))
            if len(batch) >= BATCH:
                IssuedToken.objects.bulk_create(batch)
                batch = []
        IssuedToken.objects.bulk_create(batch)
        Application.objects.filter(pk=application.pk).update(
            client_secret=make_password(secrets.token_urlsafe(32), hasher=CLIENT_SECRET_HASHER),
            hash_client_secret=True,
        )


def restore_one_secret(apps, schema_editor):
    """Backwards: the newest unrevoked secret goes back into the toolkit's column; the others stop working."""
    Application = apps.get_model("applications", "Application")
    ClientSecret = apps.get_model("applications", "ClientSecret")
    for application in Application.objects.iterator():
        row = (
            ClientSecret.objects.filter(application=application, revoked_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is not None:
            Application.objects.filter(pk=application.pk).update(client_secret=row.secret_hash)


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0004_client_secrets"),
    ]

    operations = [migrations.RunPython(move_secrets_to_rows, restore_one_secret)]

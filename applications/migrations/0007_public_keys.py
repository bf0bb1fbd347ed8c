import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Public keys (contract §10), and a token's record of its credential: a secret or a key, exactly one."""

    dependencies = [
        ("applications", "0006_application_name_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="PublicKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("kid", models.CharField(max_length=43)),
                ("alg", models.CharField(max_length=8)),
                ("public_key", models.TextField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("form_token", models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True)),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="keys",
                        to=settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["created_at", "id"]},
        ),
        migrations.AlterField(
            model_name="issuedtoken",
            name="secret",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="issued_tokens",
                to="applications.clientsecret",
            ),
        ),
        migrations.AddField(
            model_name="issuedtoken",
            name="key",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="issued_tokens",
                to="applications.publickey",
            ),
        ),
        migrations.AddConstraint(
            model_name="issuedtoken",
            constraint=models.CheckConstraint(
                condition=models.Q(("key__isnull", True), ("secret__isnull", False))
                | models.Q(("key__isnull", False), ("secret__isnull", True)),
                name="issued_token_one_credential",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("updated", "Updated"),
                    ("deleted", "Deleted"),
                    ("locked_out", "Token endpoint locked out"),
                    ("secret_generated", "Secret generated"),
                    ("secret_revoked", "Secret revoked"),
                    ("key_added", "Key added"),
                    ("key_generated", "Key pair generated"),
                    ("key_revoked", "Key revoked"),
                ],
                max_length=16,
            ),
        ),
    ]

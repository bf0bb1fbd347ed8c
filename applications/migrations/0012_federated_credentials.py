import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Federated credentials (contract §10), and a token's record of its credential: a secret, a key or a federated
    credential, exactly one."""

    dependencies = [
        ("applications", "0011_networks_suspension_last_used_address"),
    ]

    operations = [
        migrations.CreateModel(
            name="FederatedCredential",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("name", models.CharField(max_length=100)),
                ("issuer", models.CharField(max_length=255)),
                ("subject", models.CharField(max_length=600)),
                ("audience", models.CharField(max_length=255)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("last_used_address", models.GenericIPAddressField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="federated_credentials",
                        to=settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("revoked_at__isnull", True)),
                        fields=("application", "issuer", "subject", "audience"),
                        name="unique_live_federated_credential",
                    )
                ],
            },
        ),
        migrations.RemoveConstraint(model_name="issuedtoken", name="issued_token_one_credential"),
        migrations.AddField(
            model_name="issuedtoken",
            name="federated_credential",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="issued_tokens",
                to="applications.federatedcredential",
            ),
        ),
        migrations.AddConstraint(
            model_name="issuedtoken",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("federated_credential__isnull", True), ("key__isnull", True), ("secret__isnull", False)
                )
                | models.Q(("federated_credential__isnull", True), ("key__isnull", False), ("secret__isnull", True))
                | models.Q(("federated_credential__isnull", False), ("key__isnull", True), ("secret__isnull", True)),
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
                    ("secret_leaked", "Secret reported leaked, revoked"),
                    ("token_leaked", "Access token reported leaked, revoked"),
                    ("suspended", "Suspended"),
                    ("resumed", "Resumed"),
                    ("federated_credential_added", "Federated credential added"),
                    ("federated_credential_revoked", "Federated credential revoked"),
                ],
                max_length=32,
            ),
        ),
    ]

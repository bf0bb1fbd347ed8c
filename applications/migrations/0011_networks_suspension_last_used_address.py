from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0010_auditevent_actions_of_keys_and_leaks"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="allowed_networks",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="application",
            name="suspended",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="clientsecret",
            name="last_used_address",
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="publickey",
            name="last_used_address",
            field=models.GenericIPAddressField(blank=True, null=True),
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
                ],
                max_length=32,
            ),
        ),
    ]

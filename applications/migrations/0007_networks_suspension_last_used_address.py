from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0006_application_name_key"),
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
                    ("suspended", "Suspended"),
                    ("resumed", "Resumed"),
                ],
                max_length=16,
            ),
        ),
    ]

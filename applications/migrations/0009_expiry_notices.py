import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0008_secret_lookup_keys_and_leak_reports"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExpiryNotice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=16)),
                ("credential", models.UUIDField()),
                ("threshold_days", models.PositiveSmallIntegerField()),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "credential", "threshold_days"), name="unique_expiry_notice"
                    )
                ],
            },
        ),
    ]

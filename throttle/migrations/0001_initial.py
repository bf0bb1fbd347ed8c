from django.db import migrations, models


class Migration(migrations.Migration):
    """The counters' model moves here from the portal app; its table stays as portal's 0003 created it."""

    dependencies = [
        ("portal", "0003_failurecounter"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="FailureCounter",
                    fields=[
                        ("key", models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ("failures", models.IntegerField()),
                        ("expires_at", models.FloatField(db_index=True)),
                    ],
                    options={"db_table": "portal_failurecounter"},
                ),
            ],
        ),
    ]

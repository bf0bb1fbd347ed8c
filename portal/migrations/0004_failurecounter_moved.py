from django.db import migrations


class Migration(migrations.Migration):
    """FailureCounter now belongs to the throttle app (throttle 0001), which keeps its table."""

    dependencies = [
        ("portal", "0003_failurecounter"),
        ("throttle", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="FailureCounter")]),
    ]

from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Concat


def keys_from_hints(apps, schema_editor):
    # The plaintext of an existing secret is kept nowhere, so its SHA-256 cannot be had: a leak report finds it
    # by its hint instead (see ClientSecret.lookup_key). Secrets issued before hints were kept stay unfindable.
    ClientSecret = apps.get_model("applications", "ClientSecret")
    ClientSecret.objects.exclude(hint="").update(lookup_key=Concat(Value("hint:"), "hint"))


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0007_public_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientsecret",
            name="leak_url",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="clientsecret",
            name="lookup_key",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64, null=True),
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
                    ("secret_leaked", "Secret reported leaked, revoked"),
                    ("token_leaked", "Access token reported leaked, revoked"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(keys_from_hints, migrations.RunPython.noop),
    ]

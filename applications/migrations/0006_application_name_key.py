import hashlib
import unicodedata

from django.db import migrations, models


def name_digest(name: str) -> str:
    # A copy of portal.names.name_digest as it was when this migration was written.
    key = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def fill_name_keys(apps, schema_editor):
    """Each application gets its name's key; of older look-alike names in one organization, the first named does.

    The later ones keep their names and keep working, with no key: nothing is renamed behind anyone's back, and a
    new name like theirs is still refused through the first one's key.
    """
    Application = apps.get_model("applications", "Application")
    taken = set()
    for pk, organization_id, name in Application.objects.order_by("pk").values_list("pk", "organization_id", "name"):
        key = name_digest(name)
        if (organization_id, key) in taken:
            continue
        taken.add((organization_id, key))
        Application.objects.filter(pk=pk).update(name_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0005_secret_rows_from_application_hashes"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="name_key",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="application",
            constraint=models.UniqueConstraint(fields=("organization", "name_key"), name="unique_application_name_key"),
        ),
    ]

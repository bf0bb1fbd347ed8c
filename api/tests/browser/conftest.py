import pytest


@pytest.fixture(autouse=True)
def unhashed_static_files(settings):
    # pytest-django's live server serves /static/ from the finders, which know no manifest-hashed
    # names: without this Swagger UI's own script and stylesheet would not load.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

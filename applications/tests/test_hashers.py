"""The client secret hasher (applications/oauth/hashers.py), beside Django's for user passwords."""

from django.contrib.auth.hashers import get_hasher


def test_user_passwords_keep_djangos_default_hasher(settings):
    settings.PASSWORD_HASHERS = settings.PASSWORD_HASHERS[1:]  # without the test suite's fast hasher
    assert get_hasher("default").algorithm == "pbkdf2_sha256"


def test_the_secret_hasher_accepts_only_the_secret_and_shows_a_hash_prefix_in_summaries():
    hasher = get_hasher("sha256_salted")
    encoded = hasher.encode("s3cret", "salt")

    assert hasher.verify("s3cret", encoded)
    assert not hasher.verify("s3cre", encoded)
    assert hasher.safe_summary(encoded)["hash"].startswith(encoded.rsplit("$", 1)[1][:6])
    assert not hasher.must_update(encoded)

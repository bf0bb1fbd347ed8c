import pytest

from portal.tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "SIGNIN_PER_USERNAME_ADDRESS": (3, 900), "SIGNIN_PER_ADDRESS": (5, 900)}


def sign_in(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_the_right_password_signs_in(client, admin_user):
    response = sign_in(client, admin_user.username, PASSWORD)

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_repeated_failures_lock_the_username_even_for_the_right_password(client, admin_user):
    for _ in range(3):
        assert sign_in(client, admin_user.username, "wrong").status_code == 200

    response = sign_in(client, admin_user.username, PASSWORD)

    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_username(client, admin_user, member_membership):
    for _ in range(3):
        sign_in(client, admin_user.username, "wrong")

    assert sign_in(client, member_membership.user.username, PASSWORD).status_code == 302


def test_one_address_trying_many_usernames_is_locked(client, admin_user):
    for n in range(5):
        sign_in(client, f"nobody{n}", "wrong")

    assert sign_in(client, admin_user.username, PASSWORD).status_code == 200
    assert sign_in(client, admin_user.username, PASSWORD, REMOTE_ADDR="192.0.2.9").status_code == 302


def test_sign_out_is_post_only(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session

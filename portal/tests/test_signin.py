import pytest

from portal.tests.factories import PASSWORD

APPLICATIONS_URL = "/integrations/applications/"


@pytest.fixture(autouse=True)
def small_limits(settings, counter_store):
    # Every test here runs twice: counters in the database, and in Redis.
    settings.FAILURE_LIMITS = {
        **settings.FAILURE_LIMITS,
        "SIGNIN_PER_USERNAME_ADDRESS": (3, 900),
        "SIGNIN_PER_ADDRESS": (5, 900),
    }


def sign_in(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_sign_in_page_has_labelled_fields(client):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "csrfmiddlewaretoken" in html


def test_sign_in_with_a_wrong_password_shows_an_error(client, admin_user):
    response = sign_in(client, admin_user.username, "wrong")
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_leads_to_the_applications_list(client, admin_user):
    response = sign_in(client, admin_user.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/", follow=True).redirect_chain[-1][0] == APPLICATIONS_URL


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


def test_a_lockout_survives_two_thousand_failures_for_other_usernames_from_many_addresses(
    client, admin_user, frozen_time, settings
):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "SIGNIN_PER_ADDRESS": (50, 900)}
    for _ in range(3):
        sign_in(client, admin_user.username, "wrong")

    for n in range(2000):
        assert sign_in(client, f"flood{n}", "wrong", REMOTE_ADDR=f"198.51.100.{n % 250}").status_code == 200

    response = sign_in(client, admin_user.username, PASSWORD)
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_window_lasts_its_full_length(client, admin_user, frozen_time):
    start = frozen_time[0]
    for _ in range(3):
        sign_in(client, admin_user.username, "wrong")

    for offset in (301, 899):  # past the cache's default 300-second timeout, to the window's last second
        frozen_time[0] = start + offset
        assert "Too many failed sign-ins" in sign_in(client, admin_user.username, PASSWORD).content.decode()
    frozen_time[0] = start + 900
    assert sign_in(client, admin_user.username, PASSWORD).status_code == 302


def test_later_failures_do_not_move_the_windows_end(client, admin_user, frozen_time):
    start = frozen_time[0]
    for offset in (0, 300, 600):  # later failures do not move the window's end
        frozen_time[0] = start + offset
        sign_in(client, admin_user.username, "wrong")

    frozen_time[0] = start + 899
    assert "Too many failed sign-ins" in sign_in(client, admin_user.username, PASSWORD).content.decode()
    frozen_time[0] = start + 900
    assert sign_in(client, admin_user.username, PASSWORD).status_code == 302


def test_the_right_password_from_another_address_signs_in_during_a_lockout(client, admin_user):
    for _ in range(3):
        sign_in(client, admin_user.username, "wrong")
    assert sign_in(client, admin_user.username, PASSWORD).status_code == 200

    assert sign_in(client, admin_user.username, PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 302


def test_the_lock_ignores_the_usernames_case(client, admin_user):
    for _ in range(3):
        sign_in(client, admin_user.username.upper(), "wrong")

    assert sign_in(client, admin_user.username, PASSWORD).status_code == 200


def test_the_lock_counts_every_look_alike_spelling_of_a_username(client, admin_user):
    admin_user.username = "straße"
    admin_user.save()
    for spelling in ("STRASSE", "Strasse", "STRAẞE"):
        sign_in(client, spelling, "wrong")

    assert "Too many failed sign-ins" in sign_in(client, "straße", PASSWORD).content.decode()


def test_successful_sign_ins_do_not_count(client, admin_user):
    for _ in range(5):
        assert sign_in(client, admin_user.username, PASSWORD).status_code == 302
        client.post("/accounts/logout/")

    assert sign_in(client, admin_user.username, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "next_url",
    [
        "/accounts/login/",
        "/accounts/login/?next=/accounts/login/",
        "//testserver/accounts/login/",
        "https://evil.example/",
        "",
    ],
)
def test_the_sign_in_page_sends_a_signed_in_user_on_whatever_next_holds(client, admin_user, next_url):
    client.force_login(admin_user)

    response = client.get("/accounts/login/", {"next": next_url})

    assert response.status_code == 302
    assert not response["Location"].startswith(("/accounts/login/", "https://evil", "//"))


def test_sign_out_is_post_only(admin_portal_client):
    assert admin_portal_client.get("/accounts/logout/").status_code == 405
    response = admin_portal_client.post("/accounts/logout/")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in admin_portal_client.session
    assert admin_portal_client.get(APPLICATIONS_URL).status_code == 302


# Issue 19, finding 4: behind a load balancer every sign-in shares its address; with TRUSTED_PROXIES, failures
# lock out only the forwarded address they come from.
def test_behind_a_trusted_proxy_failures_lock_out_only_their_forwarded_address(client, admin_user, settings):
    from portal.addresses import parse_network

    settings.TRUSTED_PROXIES = (parse_network("10.0.0.0/8"),)

    def through_proxy(username, password, address):
        return sign_in(client, username, password, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{address}, 10.0.0.2")

    for _ in range(3):  # the username's limit, from one address
        through_proxy(admin_user.username, "wrong", "198.51.100.66")
    for n in range(5):  # the address's limit, whatever the usernames
        through_proxy(f"nobody{n}", "wrong", "203.0.113.66")

    assert "Too many failed sign-ins" in through_proxy(admin_user.username, PASSWORD, "198.51.100.66").content.decode()
    assert "Too many failed sign-ins" in through_proxy(admin_user.username, PASSWORD, "203.0.113.66").content.decode()
    assert through_proxy(admin_user.username, PASSWORD, "198.51.100.7").status_code == 302

import json
from urllib.parse import urlencode

import pytest
from oauth2_provider.models import AccessToken

from applications.services import delete_application
from applications.tests.oauth_helpers import FORM, basic_auth, request_token
from portal.actors import COMMAND_LINE

TOKEN_URL = "/oauth/token"
AUDIENCE = "http://testserver/api"


@pytest.fixture
def app_and_secret(make_application):
    return make_application(scopes=["read:credentials", "create:credentials"])


def post_raw(client, body, content_type=FORM, **headers):
    return client.post(TOKEN_URL, body, content_type=content_type, **headers)


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == error
    assert "access_token" not in response.json()


# --- Successful grants ------------------------------------------------------


def test_form_body_with_basic_auth_grants_all_the_applications_scopes(client, app_and_secret):
    application, secret = app_and_secret

    response = request_token(client, application, secret)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "read:credentials create:credentials"


def test_form_body_with_client_credentials_in_the_body_grants_a_token(client, app_and_secret):
    application, secret = app_and_secret
    body = urlencode({"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": secret})

    response = post_raw(client, body)

    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_json_body_with_audience_grants_a_token(client, app_and_secret):
    application, secret = app_and_secret
    body = {
        "grant_type": "client_credentials",
        "client_id": application.client_id,
        "client_secret": secret,
        "audience": AUDIENCE,
    }

    response = post_raw(client, json.dumps(body), content_type="application/json")

    assert response.status_code == 200
    assert response.json()["scope"] == "read:credentials create:credentials"


def test_json_body_with_basic_auth_grants_a_token(client, app_and_secret):
    application, secret = app_and_secret

    response = post_raw(
        client,
        json.dumps({"grant_type": "client_credentials"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )

    assert response.status_code == 200


def test_requesting_a_subset_of_scopes_narrows_the_token(client, app_and_secret):
    application, secret = app_and_secret

    response = request_token(client, application, secret, scope="read:credentials")

    assert response.status_code == 200
    assert response.json()["scope"] == "read:credentials"
    assert AccessToken.objects.get().scope == "read:credentials"


@pytest.mark.parametrize("scope", ["  read:credentials   create:credentials ", "read:credentials\tcreate:credentials"])
def test_scope_whitespace_is_normalised(client, app_and_secret, scope):
    application, secret = app_and_secret

    response = request_token(client, application, secret, scope=scope)

    assert response.status_code == 200
    assert response.json()["scope"] == "read:credentials create:credentials"


def test_an_empty_scope_means_all_of_the_applications_scopes(client, app_and_secret):
    application, secret = app_and_secret

    response = request_token(client, application, secret, scope="")

    assert response.status_code == 200
    assert response.json()["scope"] == "read:credentials create:credentials"


def test_token_lifetime_comes_from_the_setting(client, app_and_secret, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 120}
    application, secret = app_and_secret

    response = request_token(client, application, secret)

    assert response.json()["expires_in"] == 120


def test_only_a_checksum_of_the_access_token_is_stored(client, app_and_secret):
    application, secret = app_and_secret

    access_token = request_token(client, application, secret).json()["access_token"]

    stored = AccessToken.objects.get()
    assert stored.token == ""
    assert stored.token_checksum != access_token
    assert stored.application == application
    assert stored.user is None


def test_a_grant_records_when_the_application_was_last_used(client, app_and_secret):
    application, secret = app_and_secret
    assert application.last_used_at is None

    request_token(client, application, secret)

    application.refresh_from_db()
    assert application.last_used_at is not None


# --- Client authentication ------------------------------------------------------


def test_wrong_secret_is_401_invalid_client_with_a_basic_challenge(client, app_and_secret):
    application, _ = app_and_secret

    response = request_token(client, application, "not-the-secret")

    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert AccessToken.objects.count() == 0


def test_wrong_secret_in_the_body_is_401_invalid_client(client, app_and_secret):
    application, _ = app_and_secret
    body = urlencode({"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": "x"})

    assert_error(post_raw(client, body), 401, "invalid_client")


def test_unknown_client_is_401_invalid_client(client, db):
    response = post_raw(
        client,
        urlencode({"grant_type": "client_credentials"}),
        HTTP_AUTHORIZATION=basic_auth("no-such-client", "secret"),
    )

    assert_error(response, 401, "invalid_client")


def test_no_client_credentials_at_all_is_401_invalid_client(client, db):
    assert_error(post_raw(client, urlencode({"grant_type": "client_credentials"})), 401, "invalid_client")


def test_basic_credentials_with_a_different_client_id_in_the_body_is_invalid_request(client, app_and_secret):
    application, secret = app_and_secret
    body = urlencode({"grant_type": "client_credentials", "client_id": "someone-else"})

    response = post_raw(client, body, HTTP_AUTHORIZATION=basic_auth(application.client_id, secret))

    assert_error(response, 400, "invalid_request")


def test_a_deleted_applications_credentials_are_rejected_at_once(client, app_and_secret):
    application, secret = app_and_secret
    assert request_token(client, application, secret).status_code == 200

    delete_application(application=application, actor=COMMAND_LINE)

    assert_error(request_token(client, application, secret), 401, "invalid_client")
    assert AccessToken.objects.count() == 0


# --- Grant, scope and audience ----------------------------------------------------


def test_missing_grant_type_is_invalid_request(client, app_and_secret):
    application, secret = app_and_secret
    response = post_raw(
        client, "scope=read%3Acredentials", HTTP_AUTHORIZATION=basic_auth(application.client_id, secret)
    )

    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "grant_type",
    ["password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "implicit"],
)
def test_any_other_grant_is_unsupported_grant_type(client, app_and_secret, grant_type):
    application, secret = app_and_secret

    response = request_token(client, application, secret, grant_type=grant_type)

    assert_error(response, 400, "unsupported_grant_type")


def test_device_code_grant_without_device_code_is_unsupported_not_a_500(client, db):
    response = post_raw(client, urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}))

    assert_error(response, 400, "unsupported_grant_type")


def test_scope_beyond_the_application_is_invalid_scope(client, app_and_secret):
    application, secret = app_and_secret

    response = request_token(client, application, secret, scope="read:credentials delete:credentials")

    assert_error(response, 400, "invalid_scope")
    assert AccessToken.objects.count() == 0


def test_unknown_scope_is_invalid_scope(client, app_and_secret):
    application, secret = app_and_secret

    assert_error(request_token(client, application, secret, scope="admin"), 400, "invalid_scope")


def test_the_right_audience_is_accepted(client, app_and_secret):
    application, secret = app_and_secret

    assert request_token(client, application, secret, audience=AUDIENCE).status_code == 200


@pytest.mark.parametrize("audience", ["https://elsewhere.example/api", "http://testserver/api/", ""])
def test_a_wrong_audience_is_invalid_target(client, app_and_secret, audience):
    application, secret = app_and_secret

    response = request_token(client, application, secret, audience=audience)

    assert_error(response, 400, "invalid_target")
    assert AUDIENCE in response.json()["error_description"]


def test_the_audience_follows_public_base_url(client, app_and_secret, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example"
    application, secret = app_and_secret

    assert request_token(client, application, secret, audience="https://portal.example/api").status_code == 200
    assert_error(request_token(client, application, secret, audience=AUDIENCE), 400, "invalid_target")


def test_a_repeated_grant_type_is_invalid_request(client, app_and_secret):
    application, secret = app_and_secret
    body = "grant_type=client_credentials&grant_type=client_credentials"

    response = post_raw(client, body, HTTP_AUTHORIZATION=basic_auth(application.client_id, secret))

    assert_error(response, 400, "invalid_request")


# --- Malformed requests -------------------------------------------------------------


@pytest.fixture
def basic(app_and_secret):
    application, secret = app_and_secret
    return {"HTTP_AUTHORIZATION": basic_auth(application.client_id, secret)}


def test_empty_body_is_invalid_request(client, basic):
    assert_error(post_raw(client, b"", **basic), 400, "invalid_request")


def test_malformed_json_is_invalid_request(client, basic):
    response = post_raw(client, b'{"grant_type": "client_credentials"', content_type="application/json", **basic)

    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "body",
    [
        '["grant_type", "client_credentials"]',
        '"client_credentials"',
        '{"grant_type": ["client_credentials"]}',
        '{"grant_type": null}',
        '{"grant_type": 1}',
    ],
)
def test_json_that_is_not_an_object_of_strings_is_invalid_request(client, basic, body):
    assert_error(post_raw(client, body, content_type="application/json", **basic), 400, "invalid_request")


def test_json_that_repeats_a_key_is_invalid_request_whichever_copy_is_right(client, app_and_secret):
    application, secret = app_and_secret
    for first, last in [("wrong", secret), (secret, "wrong")]:
        body = (
            f'{{"grant_type": "client_credentials", "client_id": "{application.client_id}", '
            f'"client_secret": "{first}", "client_secret": "{last}"}}'
        )

        response = post_raw(client, body, content_type="application/json")

        assert_error(response, 400, "invalid_request")
        assert response.json()["error_description"] == "A key is repeated in the JSON body."


def test_a_one_megabyte_body_is_invalid_request(client, basic):
    body = "grant_type=client_credentials&padding=" + "a" * (1024 * 1024)

    assert_error(post_raw(client, body, **basic), 400, "invalid_request")


@pytest.mark.parametrize(
    "body", [b"grant_type=client_credentials&x=\xff\xfe", b"grant_type=client_credentials&x=%FF%FE"]
)
def test_bytes_that_are_not_utf8_are_invalid_request(client, basic, body):
    assert_error(post_raw(client, body, **basic), 400, "invalid_request")


def test_json_bytes_that_are_not_utf8_are_invalid_request(client, basic):
    response = post_raw(client, b'{"grant_type": "\xff"}', content_type="application/json", **basic)

    assert_error(response, 400, "invalid_request")


def test_a_json_escape_of_a_lone_surrogate_is_invalid_request_not_a_500(client, basic):
    body = '{"grant_type": "client_credentials", "scope": "\\ud800"}'

    response = post_raw(client, body, content_type="application/json", **basic)

    assert_error(response, 400, "invalid_request")


def test_multipart_body_is_invalid_request(client, basic):
    response = client.post(TOKEN_URL, {"grant_type": "client_credentials"}, **basic)

    assert_error(response, 400, "invalid_request")


def test_parameters_in_the_query_string_are_invalid_request(client, basic):
    response = client.post(
        TOKEN_URL + "?grant_type=client_credentials", "grant_type=client_credentials", content_type=FORM, **basic
    )

    assert_error(response, 400, "invalid_request")


def test_a_nul_character_is_invalid_request(client, db):
    body = urlencode({"grant_type": "client_credentials", "client_id": "a\x00b", "client_secret": "x"})

    assert_error(post_raw(client, body), 400, "invalid_request")


@pytest.mark.parametrize("authorization", ["Basic", "Basic !!!", "Basic " + "YQ==", "Bearer abc", "Basic /w=="])
def test_unreadable_authorization_headers_are_json_errors(client, db, authorization):
    response = post_raw(client, "grant_type=client_credentials", HTTP_AUTHORIZATION=authorization)

    assert response.status_code in (400, 401)
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] in ("invalid_request", "invalid_client")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_get_a_json_405(client, db, method):
    response = getattr(client, method)(TOKEN_URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"] == "invalid_request"


def test_the_token_endpoint_needs_no_csrf_token(db, app_and_secret):
    from django.test import Client

    application, secret = app_and_secret

    response = request_token(Client(enforce_csrf_checks=True), application, secret)

    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_an_application_deleted_while_its_grant_runs_issues_no_token(client, make_application, monkeypatch):
    from applications.oauth.validator import ApplicationValidator

    application, secret = make_application()
    save = ApplicationValidator.save_bearer_token

    def deleted_meanwhile(self, *args, **kwargs):
        # Another process deletes the application after this grant authenticated it.
        type(application).objects.filter(pk=application.pk).delete()
        return save(self, *args, **kwargs)

    monkeypatch.setattr(ApplicationValidator, "save_bearer_token", deleted_meanwhile)

    response = request_token(client, application, secret)

    assert_error(response, 401, "invalid_client")
    assert AccessToken.objects.count() == 0


def test_error_reports_hide_the_client_secret(rf, app_and_secret):
    from django.views.debug import SafeExceptionReporterFilter

    from applications.oauth.views import token_view

    application, secret = app_and_secret
    request = rf.post(
        TOKEN_URL,
        urlencode({"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": secret}),
        content_type=FORM,
    )
    token_view(request)

    shown = SafeExceptionReporterFilter().get_post_parameters(request)
    assert shown["client_secret"] != secret
    assert shown["client_id"] == application.client_id


@pytest.fixture
def failing_grant(monkeypatch):
    """Makes every grant fail with an unexpected error after the secret has been checked."""
    from applications.oauth.validator import ApplicationValidator

    def broken(self, *args, **kwargs):
        raise RuntimeError("forced failure inside the token view")

    monkeypatch.setattr(ApplicationValidator, "validate_grant_type", broken)


SECRET_BEARING_REQUESTS = {
    "basic and form": lambda app, secret: ("grant_type=client_credentials", FORM, basic_auth(app.client_id, secret)),
    "form body": lambda app, secret: (
        urlencode({"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": secret}),
        FORM,
        None,
    ),
    "json body": lambda app, secret: (
        json.dumps({"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": secret}),
        "application/json",
        None,
    ),
}


def secret_spellings(application, secret) -> list[bytes]:
    return [secret.encode(), basic_auth(application.client_id, secret).split()[1].encode()]


@pytest.mark.parametrize("shape", SECRET_BEARING_REQUESTS)
def test_the_debug_error_page_of_a_failure_inside_the_token_view_holds_no_secret(
    client, app_and_secret, failing_grant, settings, shape
):
    settings.DEBUG = True
    client.raise_request_exception = False
    application, secret = app_and_secret
    body, content_type, authorization = SECRET_BEARING_REQUESTS[shape](application, secret)
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.post(TOKEN_URL, body, content_type=content_type, **headers)

    assert response.status_code == 500
    assert b"forced failure inside the token view" in response.content  # the report itself, with its frames
    assert b"validate_grant_type" in response.content
    for spelling in secret_spellings(application, secret):
        assert spelling not in response.content


@pytest.mark.parametrize("shape", SECRET_BEARING_REQUESTS)
def test_the_emailed_error_report_of_a_failure_inside_the_token_view_holds_no_secret(
    rf, app_and_secret, failing_grant, shape
):
    import sys

    from django.views.debug import ExceptionReporter

    from applications.oauth.views import token_view

    application, secret = app_and_secret
    body, content_type, authorization = SECRET_BEARING_REQUESTS[shape](application, secret)
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    request = rf.post(TOKEN_URL, body, content_type=content_type, **headers)
    try:
        token_view(request)
    except RuntimeError:
        exc_type, exc_value, tb = sys.exc_info()
        # From the view down, as Django's handler reports it; this test's own frame holds the secret.
        report = ExceptionReporter(request, exc_type, exc_value, tb.tb_next).get_traceback_html()
    else:
        pytest.fail("the forced failure did not happen")

    assert "forced failure inside the token view" in report
    for spelling in secret_spellings(application, secret):
        assert spelling.decode() not in report

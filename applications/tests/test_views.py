import base64
import io
import json
import logging
import re
import uuid
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from dotenv import dotenv_values
from oauth2_provider.models import AccessToken

from applications import scopes as catalog
from applications import services
from applications.models import Application
from applications.tests.oauth_helpers import CONTRACT_KEYS, request_token
from portal.actors import Actor
from portal.models import Membership
from portal.tests.factories import MembershipFactory
from portal.tests.storage import everything_stored

LIST_URL = "/integrations/applications/"
NEW_URL = "/integrations/applications/new/"


def detail_url(application):
    return f"/integrations/applications/{application.public_id}/"


def delete_url(application):
    return f"/integrations/applications/{application.public_id}/delete/"


class _TestIds(HTMLParser):
    """Collects the attributes and text of every element carrying data-testid."""

    def __init__(self):
        super().__init__()
        self.found, self._open = {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-testid" in attrs:
            self.found[attrs["data-testid"]] = {"attrs": attrs, "text": ""}
            self._open.append((tag, attrs["data-testid"]))

    def handle_data(self, data):
        for _, testid in self._open:
            self.found[testid]["text"] += data

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._open.pop()


def by_testid(response) -> dict:
    parser = _TestIds()
    parser.feed(response.content.decode())
    return parser.found


def decode_data_url(href: str) -> tuple[str, str]:
    header, _, payload = href.partition(",")
    assert header.startswith("data:") and header.endswith(";base64")
    return header[len("data:") : -len(";base64")], base64.b64decode(payload).decode()


# --- Access -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", [LIST_URL, NEW_URL, f"{LIST_URL}{uuid.uuid4()}/", f"{LIST_URL}{uuid.uuid4()}/delete/"])
def test_anonymous_visitor_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# --- List -------------------------------------------------------------------------


def test_empty_list_explains_applications_and_offers_creation_to_admins(admin_portal_client):
    html = admin_portal_client.get(LIST_URL).content.decode()
    assert "No applications yet" in html
    assert "Create your first Application" in html
    assert f'href="{NEW_URL}"' in html


def test_the_empty_list_title_is_a_heading(admin_portal_client):
    html = admin_portal_client.get(LIST_URL).content.decode()
    assert '<h2 class="empty-title">No applications yet</h2>' in html


def test_empty_list_tells_members_to_ask_an_admin(member_client):
    html = member_client.get(LIST_URL).content.decode()
    assert "No applications yet" in html
    assert "ask an admin" in html
    assert NEW_URL not in html


def test_list_shows_each_application_newest_first(admin_portal_client, make_application):
    older, _ = make_application(name="Older job", description="Runs nightly.")
    newer, _ = make_application(name="Newer job", scopes=["read:organizations"])
    response = admin_portal_client.get(LIST_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Newer job") < html.index("Older job")
    for application in (older, newer):
        assert application.client_id in html
        assert f'href="{detail_url(application)}">View</a>' in html
        assert f'href="{delete_url(application)}">Delete</a>' in html
    assert "Runs nightly." in html
    assert "<code>read:organizations</code>" in html and "<code>create:credentials</code>" in html
    assert html.count(">never</td>") == 2
    assert '<details class="menu">' in html
    assert "New Application</a>" in html
    assert 'href="/api/postman-collection.json"' in html


def test_list_shows_when_a_token_was_last_issued(admin_portal_client, make_application, get_token):
    application, secret = make_application()
    get_token(application, secret)
    application.refresh_from_db()
    html = admin_portal_client.get(LIST_URL).content.decode()
    assert ">never</td>" not in html
    assert f'datetime="{application.last_used_at.isoformat()}"' in html


def test_members_see_the_list_without_change_actions(member_client, make_application):
    application, _ = make_application()
    html = member_client.get(LIST_URL).content.decode()
    assert application.name in html
    assert "New Application</a>" not in html
    assert delete_url(application) not in html
    assert f'href="{detail_url(application)}">View</a>' in html


def test_list_shows_only_the_current_organizations_applications(admin_portal_client, other_application):
    html = admin_portal_client.get(LIST_URL).content.decode()
    assert other_application[0].name not in html
    assert other_application[0].client_id not in html


def test_list_query_count_does_not_grow_with_applications(
    admin_portal_client, make_application, organization, django_assert_num_queries
):
    make_application(
        name="First", actor=Actor.for_member(MembershipFactory(organization=organization, role=Membership.Role.ADMIN))
    )
    with CaptureQueriesContext(connection) as with_one:
        admin_portal_client.get(LIST_URL)
    for n in range(5):
        make_application(
            name=f"More {n}",
            actor=Actor.for_member(MembershipFactory(organization=organization, role=Membership.Role.ADMIN)),
        )
    with django_assert_num_queries(len(with_one)):
        response = admin_portal_client.get(LIST_URL)
    assert response.content.decode().count('<details class="menu">') == 6


# --- New: the form ------------------------------------------------------------------


def test_new_form_groups_scopes_by_resource_with_descriptions(admin_portal_client):
    response = admin_portal_client.get(NEW_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_name">Name</label>' in html
    assert '<label for="id_description">Description <span class="muted">(optional)</span></label>' in html
    for legend in ("Credentials", "Applications", "Organization"):
        assert f"<legend>{legend}</legend>" in html
    assert html.index("<legend>Credentials</legend>") < html.index('value="read:credentials"')
    assert html.index('value="delete:credentials"') < html.index("<legend>Applications</legend>")
    assert "List and read the organization&#x27;s verifiable credentials." in html
    assert "Scopes cannot be changed later" in html
    assert re.search(r'<input type="hidden" name="form_token" value="[A-Za-z0-9_-]{43}"', html)
    assert "Create Application</button>" in html


def test_each_new_form_carries_its_own_token(admin_portal_client):
    pattern = r'name="form_token" value="([^"]+)"'
    first = re.search(pattern, admin_portal_client.get(NEW_URL).content.decode()).group(1)
    second = re.search(pattern, admin_portal_client.get(NEW_URL).content.decode()).group(1)
    assert first != second


def test_new_form_page_stays_in_the_history_cache(admin_portal_client):
    # Back from the reveal must show this page with its original token, so a resubmission is recognised.
    response = admin_portal_client.get(NEW_URL)
    assert response["Cache-Control"] == "private, max-age=0"
    # Posting to the page's own URL would evict it from the browser's cache.
    assert f'action="{NEW_URL}?create"' in response.content.decode()


def test_member_gets_403_for_the_new_form(member_client):
    assert member_client.get(NEW_URL).status_code == 403


def test_member_post_creates_nothing(member_client, new_application_data):
    assert member_client.post(NEW_URL, new_application_data()).status_code == 403
    assert Application.objects.count() == 0


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"name": ""}, "name", "Enter a name."),
        ({"name": "   "}, "name", "Enter a name."),
        ({"name": "x" * 101}, "name", "Use at most 100 characters."),
        ({"description": "x" * 1001}, "description", "Use at most 1000 characters."),
        ({"scopes": []}, "scopes", "Choose at least one scope."),
        ({"scopes": ["read:credentials", "admin:everything"]}, "scopes", "Unknown scope: admin:everything."),
        ({"form_token": ""}, "form_token", "This form is incomplete or has expired"),
        ({"form_token": "short"}, "form_token", "This form is incomplete or has expired"),
    ],
)
def test_new_form_errors_show_next_to_the_field(admin_portal_client, new_application_data, overrides, field, message):
    response = admin_portal_client.post(NEW_URL, new_application_data(**overrides))
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>{re.escape(message)}', html)
    assert 'data-testid="client-secret"' not in html
    assert Application.objects.count() == 0


def test_the_scopes_note_describes_the_scope_choice_with_or_without_an_error(admin_portal_client, new_application_data):
    form = admin_portal_client.get(NEW_URL).content.decode()
    refused = admin_portal_client.post(NEW_URL, new_application_data(scopes=[])).content.decode()

    assert '<p class="note muted" id="scopes-note">' in form
    assert '<fieldset class="field scopes" aria-describedby="scopes-note">' in form
    assert '<fieldset class="field scopes has-error" aria-describedby="scopes-note id_scopes_error">' in refused


def test_duplicate_name_in_the_organization_is_refused(admin_portal_client, make_application, new_application_data):
    make_application(name="Nightly Sync")
    response = admin_portal_client.post(NEW_URL, new_application_data(name="nightly sync"))
    html = response.content.decode()
    assert '<ul class="errorlist" id="id_name_error"><li>An application with this name already exists' in html
    assert Application.objects.count() == 1


@pytest.mark.parametrize(
    "first, second", [("Nightly sync", "Ｎｉｇｈｔｌｙ sync"), ("FILE", "ﬁle"), ("Straße", "STRASSE")]
)
def test_a_look_alike_name_is_refused_at_creation_and_rename(
    admin_portal_client, make_application, new_application_data, first, second
):
    make_application(name=first)
    other, _ = make_application(name="Other job")

    created = admin_portal_client.post(NEW_URL, new_application_data(name=second)).content.decode()
    renamed = admin_portal_client.post(detail_url(other), {"name": second, "description": ""}).content.decode()

    for html in (created, renamed):
        assert '<ul class="errorlist" id="id_name_error"><li>An application with this name already exists' in html
    assert sorted(Application.objects.values_list("name", flat=True)) == sorted([first, "Other job"])


def test_same_name_in_another_organization_is_fine(admin_portal_client, other_application, new_application_data):
    response = admin_portal_client.post(NEW_URL, new_application_data(name="Globex sync"))
    assert 'data-testid="client-secret"' in response.content.decode()


def test_form_errors_keep_what_was_typed(admin_portal_client, new_application_data):
    html = admin_portal_client.post(NEW_URL, new_application_data(scopes=[])).content.decode()
    assert 'value="Nightly sync"' in html
    assert "Copies credentials every night.</textarea>" in html
    assert f'name="form_token" value="{"t" * 43}"' in html


# --- New: the one-time reveal ---------------------------------------------------------


def test_creating_answers_200_with_the_reveal_page(admin_portal_client, admin_user, new_application_data, client):
    response = admin_portal_client.post(NEW_URL, new_application_data())
    assert response.status_code == 200
    application = Application.objects.get()
    found = by_testid(response)
    secret = found["client-secret"]["text"]
    assert found["client-id"]["text"] == application.client_id
    assert len(secret) >= 40 and application.client_secret != secret
    assert application.created_by == admin_user
    assert application.scopes == "read:credentials create:credentials"
    assert application.description == "Copies credentials every night."
    # The secret on the page is the one that works.
    assert request_token(client, application, secret).status_code == 200


def test_the_reveal_and_view_pages_list_the_scopes_alike(admin_portal_client, new_application_data):
    reveal = admin_portal_client.post(NEW_URL, new_application_data()).content.decode()
    view = admin_portal_client.get(detail_url(Application.objects.get())).content.decode()

    for name in ("read:credentials", "create:credentials"):
        item = f'<li><code>{name}</code> <span class="hint muted">{escape(catalog.SCOPES[name])}</span></li>'
        assert item in reveal and item in view


def test_reveal_is_never_stored_by_a_cache(admin_portal_client, new_application_data):
    response = admin_portal_client.post(NEW_URL, new_application_data())
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_reveal_warns_and_offers_copy_buttons_without_inline_script(admin_portal_client, new_application_data):
    html = admin_portal_client.post(NEW_URL, new_application_data()).content.decode()
    assert "shown this one time only" in html
    assert 'data-copy="client-id"' in html and 'data-copy="client-secret"' in html
    assert re.search(r'<script src="/static/js/copy\.[0-9a-f]+\.js" defer></script>', html)
    assert "<script>" not in html and " onclick=" not in html and " style=" not in html
    assert 'href="/api/postman-collection.json"' in html


def test_reveal_downloads_hold_the_contract_variables(
    admin_portal_client, new_application_data, organization, settings
):
    settings.PUBLIC_BASE_URL = "https://portal.example"
    response = admin_portal_client.post(NEW_URL, new_application_data(name="Nightly sync / EU"))
    application = Application.objects.get()
    found = by_testid(response)
    expected = {
        "API_BASE_URL": "https://portal.example/api",
        "TOKEN_ENDPOINT": "https://portal.example/oauth/token",
        "TOKEN_AUDIENCE": "https://portal.example/api",
        "ORGANIZATION_ID": str(organization.public_id),
        "CLIENT_ID": application.client_id,
        "CLIENT_SECRET": found["client-secret"]["text"],
        "SCOPES": "read:credentials create:credentials",
        "REVOCATION_ENDPOINT": "https://portal.example/oauth/revoke",
        "INTROSPECTION_ENDPOINT": "https://portal.example/oauth/introspect",
    }

    env = found["download-env"]["attrs"]
    assert env["download"] == "nightly-sync-eu.env"
    _, env_text = decode_data_url(env["href"])
    assert dotenv_values(stream=io.StringIO(env_text)) == expected
    assert list(dotenv_values(stream=io.StringIO(env_text))) == CONTRACT_KEYS

    postman = found["download-postman"]["attrs"]
    assert postman["download"] == "nightly-sync-eu.postman_environment.json"
    media_type, postman_text = decode_data_url(postman["href"])
    assert media_type == "application/json"
    document = json.loads(postman_text)
    assert document["_postman_variable_scope"] == "environment"
    assert {value["key"]: value["value"] for value in document["values"]} == expected
    types = {value["key"]: value["type"] for value in document["values"]}
    assert types.pop("CLIENT_SECRET") == "secret"
    assert set(types.values()) == {"default"}


def test_reveal_downloads_take_the_origin_from_the_request_without_public_base_url(
    admin_portal_client, new_application_data, settings
):
    settings.PUBLIC_BASE_URL = ""
    found = by_testid(admin_portal_client.post(NEW_URL, new_application_data()))
    env = dotenv_values(stream=io.StringIO(decode_data_url(found["download-env"]["attrs"]["href"])[1]))
    assert env["TOKEN_ENDPOINT"] == "http://testserver/oauth/token"
    assert env["TOKEN_AUDIENCE"] == "http://testserver/api"


def test_secret_is_stored_nowhere_after_the_reveal(admin_portal_client, new_application_data, caplog):
    caplog.set_level(logging.DEBUG)
    response = admin_portal_client.post(NEW_URL, new_application_data())
    secret = by_testid(response)["client-secret"]["text"]
    # Follow-up pages a user would open next must not carry it either (messages, session).
    admin_portal_client.get(LIST_URL)
    admin_portal_client.get(detail_url(Application.objects.get()))

    assert secret not in everything_stored()
    assert secret not in repr(dict(admin_portal_client.session.items()))
    assert secret not in str(admin_portal_client.cookies)
    assert secret not in str(response.cookies)
    assert all(secret not in value for value in response.headers.values())
    assert secret not in caplog.text
    assert all(secret not in repr(record.args) for record in caplog.records)


def test_secret_hash_check_fails_for_anything_but_the_secret(admin_portal_client, new_application_data):
    response = admin_portal_client.post(NEW_URL, new_application_data())
    secret = by_testid(response)["client-secret"]["text"]
    stored = Application.objects.get().client_secret
    assert stored.startswith("sha256_salted$") and secret not in stored


# --- New: the one-time form token ------------------------------------------------------


def test_resubmitting_the_form_creates_nothing_and_shows_no_secret(admin_portal_client, new_application_data):
    first = admin_portal_client.post(NEW_URL, new_application_data())
    secret = by_testid(first)["client-secret"]["text"]
    application = Application.objects.get()

    again = admin_portal_client.post(NEW_URL, new_application_data())
    html = again.content.decode()
    assert again.status_code == 200
    assert Application.objects.count() == 1
    assert secret not in html
    assert 'data-testid="client-secret"' not in html and "data:" not in html
    assert "This form was already submitted" in html
    assert "generate a new secret on the application's page" in html
    assert f'href="{detail_url(application)}"' in html
    assert "no-store" in again["Cache-Control"]


def test_resubmitting_with_other_values_still_creates_nothing(admin_portal_client, new_application_data):
    admin_portal_client.post(NEW_URL, new_application_data())
    again = admin_portal_client.post(NEW_URL, new_application_data(name="Another name", scopes=["read:organizations"]))
    assert "This form was already submitted" in again.content.decode()
    assert list(Application.objects.values_list("name", flat=True)) == ["Nightly sync"]


def test_a_refused_submission_does_not_spend_the_token(admin_portal_client, new_application_data):
    admin_portal_client.post(NEW_URL, new_application_data(scopes=[]))
    response = admin_portal_client.post(NEW_URL, new_application_data())
    assert 'data-testid="client-secret"' in response.content.decode()
    assert Application.objects.get().form_token == "t" * 43


def test_a_fresh_form_creates_another_application(admin_portal_client, new_application_data):
    admin_portal_client.post(NEW_URL, new_application_data())
    response = admin_portal_client.post(NEW_URL, new_application_data(name="Second", form_token="u" * 43))
    assert 'data-testid="client-secret"' in response.content.decode()
    assert Application.objects.count() == 2


def test_the_losing_side_of_a_double_submit_race_creates_nothing(
    admin_portal_client, new_application_data, make_application, monkeypatch
):
    # The other submission commits between this one's token check and its insert.
    winner, _ = make_application(name="Winner", form_token="t" * 43)
    check = services._refuse_spent_form_token
    calls = []

    def check_misses_the_first_time(**kwargs):
        calls.append(kwargs)
        if len(calls) > 1:
            check(**kwargs)

    monkeypatch.setattr(services, "_refuse_spent_form_token", check_misses_the_first_time)
    response = admin_portal_client.post(NEW_URL, new_application_data(name="Loser"))
    html = response.content.decode()
    assert len(calls) == 2
    assert "This form was already submitted" in html and f'href="{detail_url(winner)}"' in html
    assert list(Application.objects.values_list("name", flat=True)) == ["Winner"]


def test_a_token_spent_in_another_organization_links_nothing(
    admin_portal_client, new_application_data, make_application, other_organization
):
    make_application(name="Elsewhere", organization=other_organization, form_token="t" * 43)
    html = admin_portal_client.post(NEW_URL, new_application_data()).content.decode()
    assert "This form was already submitted" in html
    assert "Elsewhere" not in html
    assert Application.objects.filter(organization__slug="acme-corp").count() == 0


# --- View and update ---------------------------------------------------------------------


def test_view_page_shows_the_application_but_never_its_secret(admin_portal_client, make_application, admin_user):
    application, secret = make_application(
        description="Copies credentials.", actor=Actor.for_member(admin_user.memberships.get())
    )
    response = admin_portal_client.get(detail_url(application))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{application.name}</h1>" in html
    assert application.client_id in html
    assert f"by {admin_user.username}" in html
    assert ">never</dd>" in html
    assert "<code>read:credentials</code>" in html and "Store new verifiable credentials." in html
    assert "Scopes are chosen when an application is created and cannot be changed." in html
    assert 'value="Nightly sync"' in html and "Copies credentials.</textarea>" in html
    assert "Update</button>" in html and "Delete</button>" in html
    stored = application.client_secret
    assert secret not in html
    assert stored not in html and stored.rsplit("$", 1)[1] not in html


def test_member_sees_the_view_page_read_only(member_client, make_application):
    application, secret = make_application(description="Copies credentials.")
    html = member_client.get(detail_url(application)).content.decode()
    assert application.client_id in html and "Copies credentials." in html
    assert "Update</button>" not in html and "Delete</button>" not in html
    assert "<textarea" not in html
    assert secret not in html and application.client_secret not in html


def test_update_changes_name_and_description(admin_portal_client, make_application):
    application, _ = make_application()
    response = admin_portal_client.post(detail_url(application), {"name": "Hourly sync", "description": "Every hour."})
    assert response.status_code == 302 and response["Location"] == detail_url(application)
    application.refresh_from_db()
    assert (application.name, application.description) == ("Hourly sync", "Every hour.")
    html = admin_portal_client.get(response["Location"]).content.decode()
    assert "Application “Hourly sync” updated." in html


def test_update_cannot_change_scopes(admin_portal_client, make_application):
    application, _ = make_application()
    admin_portal_client.post(
        detail_url(application), {"name": "Nightly sync", "description": "", "scopes": ["delete:applications"]}
    )
    application.refresh_from_db()
    assert application.scopes == "read:credentials create:credentials"


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": ""}, "name", "Enter a name."),
        ({"name": "x" * 101}, "name", "Use at most 100 characters."),
        ({"name": "OTHER JOB"}, "name", "An application with this name already exists in the organization."),
        ({"name": "Fine", "description": "x" * 1001}, "description", "Use at most 1000 characters."),
    ],
)
def test_update_errors_show_next_to_the_field_and_change_nothing(
    admin_portal_client, make_application, data, field, message
):
    application, _ = make_application(description="Original.")
    make_application(name="Other job")
    response = admin_portal_client.post(detail_url(application), {"description": "", **data})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}</li></ul>' in html
    assert f"<h1>{application.name}</h1>" in html
    application.refresh_from_db()
    assert (application.name, application.description) == ("Nightly sync", "Original.")


def test_member_update_gets_403_and_changes_nothing(member_client, make_application):
    application, _ = make_application()
    response = member_client.post(detail_url(application), {"name": "Renamed", "description": ""})
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.name == "Nightly sync"


@pytest.mark.parametrize("make_url", [detail_url, delete_url])
def test_other_organizations_application_gets_404(admin_portal_client, other_application, make_url):
    application, _ = other_application
    assert admin_portal_client.get(make_url(application)).status_code == 404
    assert admin_portal_client.post(make_url(application), {"name": "Mine now", "description": ""}).status_code == 404
    application.refresh_from_db()
    assert application.name == "Globex sync"


@pytest.mark.parametrize("make_url", [detail_url, delete_url])
def test_other_organizations_application_gets_404_for_members_too(member_client, other_application, make_url):
    assert member_client.get(make_url(other_application[0])).status_code == 404
    assert member_client.post(make_url(other_application[0])).status_code == 404


def test_unknown_application_gets_404(admin_portal_client):
    assert admin_portal_client.get(f"{LIST_URL}{uuid.uuid4()}/").status_code == 404
    assert admin_portal_client.get(f"{LIST_URL}not-a-uuid/").status_code == 404


@pytest.mark.parametrize("form", ["new", "update", "delete"])
def test_every_form_refuses_a_post_without_the_csrf_token(
    admin_membership, make_application, new_application_data, form
):
    application, _ = make_application()
    url, data = {
        "new": (NEW_URL, new_application_data(name="Another sync")),
        "update": (detail_url(application), {"name": "Renamed", "description": ""}),
        "delete": (delete_url(application), {}),
    }[form]
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_membership.user)

    assert client.post(url, data).status_code == 403
    assert list(Application.objects.values_list("pk", "name")) == [(application.pk, "Nightly sync")]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_pages_answer_only_get_and_post(admin_portal_client, make_application, method):
    application, _ = make_application()
    for url in (NEW_URL, detail_url(application), delete_url(application)):
        assert getattr(admin_portal_client, method)(url).status_code == 405
    assert admin_portal_client.post(LIST_URL).status_code == 405


# --- Delete --------------------------------------------------------------------------------


def test_delete_confirmation_names_the_application(admin_portal_client, make_application):
    application, _ = make_application()
    response = admin_portal_client.get(delete_url(application))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Delete “Nightly sync”?</h1>" in html
    assert application.client_id in html
    assert 'method="post"' in html and "Delete “Nightly sync”</button>" in html
    assert Application.objects.filter(pk=application.pk).exists()


def test_delete_removes_the_application_and_its_credentials_stop_working(
    admin_portal_client, make_application, get_token, client
):
    application, secret = make_application()
    get_token(application, secret)
    assert AccessToken.objects.filter(application=application).count() == 1

    response = admin_portal_client.post(delete_url(application))
    assert response.status_code == 302 and response["Location"] == LIST_URL
    assert not Application.objects.filter(pk=application.pk).exists()
    assert AccessToken.objects.count() == 0
    html = admin_portal_client.get(LIST_URL).content.decode()
    assert "Application “Nightly sync” deleted." in html

    refused = request_token(client, application, secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


def test_member_cannot_delete(member_client, make_application):
    application, _ = make_application()
    assert member_client.get(delete_url(application)).status_code == 403
    assert member_client.post(delete_url(application)).status_code == 403
    assert Application.objects.filter(pk=application.pk).exists()


def test_admin_of_another_organization_cannot_delete(make_application, other_organization):
    application, _ = make_application()
    outsider = MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(outsider.user)
    assert client.post(delete_url(application)).status_code == 404
    assert Application.objects.filter(pk=application.pk).exists()

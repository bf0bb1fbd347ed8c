"""The view page's share of contract §11: allowed networks (a textarea), Suspend and Resume (one POST each), the
last-used address of each secret, and the list's "Suspended" mark."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from applications.models import Application, AuditEvent
from applications.services import update_application
from applications.tests.oauth_helpers import FORM, basic_auth
from portal.actors import COMMAND_LINE

LIST_URL = "/integrations/applications/"


def detail_url(application, *rest):
    return "/".join([f"/integrations/applications/{application.public_id}", *rest, ""])


class _Forms(HTMLParser):
    """The action of every form on a page."""

    def __init__(self):
        super().__init__()
        self.actions = []

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.actions.append(dict(attrs).get("action"))


def form_actions(html: str) -> list[str]:
    parser = _Forms()
    parser.feed(html)
    return parser.actions


def test_admins_set_allowed_networks_one_a_line(admin_portal_client, make_application):
    application, _ = make_application()

    response = admin_portal_client.post(
        detail_url(application, "networks"), {"allowed_networks": "198.51.100.0/24\r\n\r\n  2001:DB8::/32  \r\n"}
    )

    assert response.status_code == 302 and response["Location"] == detail_url(application)
    application.refresh_from_db()
    assert application.allowed_networks == ["198.51.100.0/24", "2001:db8::/32"]
    page = admin_portal_client.get(detail_url(application)).content.decode()
    assert "198.51.100.0/24\n2001:db8::/32</textarea>" in page
    assert "now accepts requests from 198.51.100.0/24, 2001:db8::/32" in page
    event = AuditEvent.objects.get(application=application, action="updated")
    assert event.changes == {"allowed_networks": [[], ["198.51.100.0/24", "2001:db8::/32"]]}
    activity = admin_portal_client.get("/integrations/activity/").content.decode()
    assert "allowed networks: any → 198.51.100.0/24, 2001:db8::/32" in activity

    admin_portal_client.post(detail_url(application, "networks"), {"allowed_networks": ""})
    application.refresh_from_db()
    assert application.allowed_networks == []


def test_a_bad_network_is_a_form_error_naming_it_and_nothing_changes(admin_portal_client, make_application):
    application, _ = make_application()

    response = admin_portal_client.post(
        detail_url(application, "networks"), {"allowed_networks": "198.51.100.0/24\nintranet.local\n10.0.0.1/8"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "“intranet.local” is not an IP address or CIDR range." in page
    assert "“10.0.0.1/8” has bits set after its prefix length: write 10.0.0.0/8 for the range." in page
    # The admin's lines come back to be corrected.
    assert "198.51.100.0/24\nintranet.local\n10.0.0.1/8</textarea>" in page
    application.refresh_from_db()
    assert application.allowed_networks == []


def test_fifty_one_networks_are_refused(admin_portal_client, make_application):
    application, _ = make_application()
    lines = "\n".join(f"198.51.{n}.0/24" for n in range(51))

    response = admin_portal_client.post(detail_url(application, "networks"), {"allowed_networks": lines})

    assert "Give at most 50 networks (51 were given)." in response.content.decode()
    application.refresh_from_db()
    assert application.allowed_networks == []
    fifty = "\n".join(f"198.51.{n}.0/24" for n in range(50))
    assert admin_portal_client.post(detail_url(application, "networks"), {"allowed_networks": fifty}).status_code == 302


def test_admins_suspend_and_resume_with_one_post_each(admin_portal_client, make_application):
    application, secret = make_application()
    page = admin_portal_client.get(detail_url(application)).content.decode()
    assert detail_url(application, "suspend") in form_actions(page)
    assert detail_url(application, "resume") not in form_actions(page)

    response = admin_portal_client.post(detail_url(application, "suspend"))

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.suspended
    page = admin_portal_client.get(detail_url(application)).content.decode()
    assert 'data-testid="suspended"' in page and "suspended: its credentials and tokens are refused" in page
    assert detail_url(application, "resume") in form_actions(page)
    assert detail_url(application, "suspend") not in form_actions(page)
    assert 'data-testid="suspended-mark">Suspended</span>' in admin_portal_client.get(LIST_URL).content.decode()
    assert _grant(application, secret).status_code == 401

    admin_portal_client.post(detail_url(application, "resume"))

    application.refresh_from_db()
    assert not application.suspended
    assert "suspended-mark" not in admin_portal_client.get(LIST_URL).content.decode()
    assert _grant(application, secret).status_code == 200
    events = AuditEvent.objects.filter(application=application, action__in=["suspended", "resumed"]).order_by("id")
    assert [(e.action, e.address) for e in events] == [("suspended", "127.0.0.1"), ("resumed", "127.0.0.1")]
    activity = admin_portal_client.get("/integrations/activity/").content.decode()
    assert "Suspended" in activity and "Resumed" in activity


def _grant(application, secret):
    return Client().post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )


def test_members_see_the_networks_and_the_suspension_but_no_control(member_client, make_application):
    application, _ = make_application()
    update_application(application=application, actor=COMMAND_LINE, allowed_networks=["198.51.100.0/24"])
    update_application(application=application, actor=COMMAND_LINE, suspended=True)

    page = member_client.get(detail_url(application)).content.decode()

    assert "<code>198.51.100.0/24</code>" in page and 'data-testid="suspended"' in page
    assert [action for action in form_actions(page) if action.startswith(detail_url(application))] == []
    assert "Suspend</button>" not in page and "Resume</button>" not in page and "<textarea" not in page
    for path in ("networks", "suspend", "resume"):
        assert member_client.post(detail_url(application, path), {"allowed_networks": ""}).status_code == 403
    application.refresh_from_db()
    assert (application.allowed_networks, application.suspended) == (["198.51.100.0/24"], True)


@pytest.mark.parametrize("path", ["networks", "suspend", "resume"])
def test_the_forms_need_the_csrf_token_and_a_post(admin_membership, make_application, path):
    application, _ = make_application()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_membership.user)

    assert client.post(detail_url(application, path), {"allowed_networks": "198.51.100.0/24"}).status_code == 403
    assert client.get(detail_url(application, path)).status_code == 405
    application.refresh_from_db()
    assert (application.allowed_networks, application.suspended) == ([], False)


@pytest.mark.parametrize("path", ["networks", "suspend", "resume"])
def test_another_organizations_application_is_404(admin_portal_client, make_application, other_organization, path):
    application, _ = make_application(name="Globex sync", organization=other_organization)

    assert admin_portal_client.post(detail_url(application, path), {"allowed_networks": ""}).status_code == 404
    assert Application.objects.get(pk=application.pk).suspended is False


def test_the_view_page_shows_where_each_secret_was_last_used_from(admin_portal_client, make_application):
    application, secret = make_application()
    Client().post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
        REMOTE_ADDR="2001:db8::9",
    )

    page = admin_portal_client.get(detail_url(application)).content.decode()

    assert 'from <code class="value" data-testid="last-used-address">2001:db8::9</code>' in page

"""`manage.py notifyexpiring` (contract §12): notices 14, 7 and 1 days before a live credential expires, each once."""

import datetime as dt
import hashlib
import io

import pytest
from django.core import mail
from django.core.management import call_command

from applications import expiry
from applications.models import ClientSecret, ExpiryNotice
from applications.services import revoke_secret, rotate_secret
from portal.actors import COMMAND_LINE
from portal.models import Membership
from portal.tests.factories import MembershipFactory

DAY = 86400


@pytest.fixture
def mailed(settings):
    settings.NOTICE_EMAILS = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = "https://portal.example"
    return mail.outbox


def notify() -> list[str]:
    """Runs the command; its output lines."""
    out, err = io.StringIO(), io.StringIO()
    call_command("notifyexpiring", stdout=out, stderr=err)
    return out.getvalue().splitlines()


def test_a_secret_gets_one_notice_at_14_days_one_at_7_and_one_at_1(frozen_time, make_application, admin_user, mailed):
    application, secret = make_application(expires_in_days=20)
    row = ClientSecret.objects.get(application=application)

    # (days after creation, notices the run sends): every run in between sends nothing.
    for day, expected in [(0, 0), (5.9, 0), (6, 1), (6.5, 0), (12, 0), (13, 1), (13, 0), (19, 1), (19.9, 0), (21, 0)]:
        frozen_time[0] = 1_800_000_000 + day * DAY
        assert notify()[-1] == f"{expected} notices sent", day

    assert [message.subject for message in mailed] == [
        f"Client secret …{secret[-4:]} of “Nightly sync” expires in 14 days",
        f"Client secret …{secret[-4:]} of “Nightly sync” expires in 7 days",
        f"Client secret …{secret[-4:]} of “Nightly sync” expires in 1 day",
    ]
    assert all(message.to == [admin_user.email] for message in mailed)
    notices = ExpiryNotice.objects.filter(kind="secret", credential=row.public_id)
    assert sorted(notices.values_list("threshold_days", flat=True)) == [1, 7, 14]


def test_a_secret_first_seen_within_7_days_gets_that_notice_and_the_last_one(
    frozen_time, make_application, admin_user, mailed
):
    make_application(expires_in_days=5)

    assert notify()[-1] == "1 notices sent"
    frozen_time[0] += 4.5 * DAY
    assert notify()[-1] == "1 notices sent"
    assert notify()[-1] == "0 notices sent"

    assert [message.subject.rsplit(" expires ", 1)[1] for message in mailed] == ["in 5 days", "in less than a day"]


def test_the_mail_names_the_application_hint_expiry_and_page_and_never_the_secret(
    frozen_time, make_application, admin_user, mailed
):
    application, secret = make_application(expires_in_days=10)
    stored = ClientSecret.objects.get(application=application)

    notify()

    [message] = mailed
    assert message.content_subtype == "plain"
    assert f"client secret …{secret[-4:]} of the application “Nightly sync” (Acme Corp)" in message.body
    assert f"expires on {stored.expires_at:%-d %b %Y at %H:%M} UTC, in 10 days" in message.body
    assert f"https://portal.example/integrations/applications/{application.public_id}/" in message.body
    text = message.subject + message.body + str(message.message())
    for forbidden in (secret, hashlib.sha256(secret.encode()).hexdigest(), stored.secret_hash.split("$")[-1]):
        assert forbidden not in text


def test_without_public_base_url_the_notice_gives_the_pages_path_and_says_so(
    frozen_time, make_application, admin_user, mailed, settings
):
    settings.PUBLIC_BASE_URL = ""
    application, _ = make_application(expires_in_days=3)
    err = io.StringIO()

    call_command("notifyexpiring", stdout=io.StringIO(), stderr=err)

    assert "PUBLIC_BASE_URL is not set" in err.getvalue()
    assert f"\n/integrations/applications/{application.public_id}/\n" in mailed[0].body


def test_without_email_url_the_notices_are_printed_and_recorded_the_same_way(
    frozen_time, make_application, admin_user, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _, secret = make_application(expires_in_days=2)

    printed = "\n".join(notify())

    assert (
        f"To: {admin_user.email}\nSubject: Client secret …{secret[-4:]} of “Nightly sync” expires in 2 days" in printed
    )
    assert printed.endswith("\n1 notices sent")
    assert secret not in printed
    assert mail.outbox == []
    assert ExpiryNotice.objects.count() == 1
    assert notify() == ["0 notices sent"]


def test_only_live_secrets_with_an_expiry_get_notices(frozen_time, make_application, admin_user, mailed):
    never, _ = make_application(name="Never expires")
    later, _ = make_application(name="Far off", expires_in_days=16)
    revoked, _ = make_application(name="Revoked", expires_in_days=3)
    rotate_secret(application=revoked, actor=COMMAND_LINE, keep_current_for=None)
    revoke_secret(secret=revoked.secrets.order_by("pk").first(), actor=COMMAND_LINE)
    expired, _ = make_application(name="Expired", expires_in_days=1)
    frozen_time[0] += DAY + 1

    assert notify()[-1] == "0 notices sent"
    assert mailed == []


def test_each_organizations_admins_get_their_own_notices_and_members_none(
    frozen_time, make_application, admin_user, organization, other_organization, mailed
):
    second_admin = MembershipFactory(organization=organization, role=Membership.Role.ADMIN).user
    MembershipFactory(organization=organization, role=Membership.Role.MEMBER)
    MembershipFactory(organization=organization, role=Membership.Role.ADMIN, user__email="")
    theirs = MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN).user
    make_application(name="Ours", expires_in_days=7)
    make_application(name="Theirs", organization=other_organization, expires_in_days=7)

    assert notify()[-1] == "2 notices sent"

    received = {(message.to[0], message.subject.split("“")[1].split("”")[0]) for message in mailed}
    assert received == {(admin_user.email, "Ours"), (second_admin.email, "Ours"), (theirs.email, "Theirs")}


def test_a_notice_that_cannot_be_mailed_is_not_recorded_and_goes_out_at_the_next_run(
    frozen_time, make_application, admin_user, mailed, settings
):
    make_application(expires_in_days=7)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    out = io.StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("notifyexpiring", stdout=out, stderr=io.StringIO())

    assert exit_.value.code == 1
    assert out.getvalue().splitlines()[-1].startswith("0 notices sent, 1 could not be mailed")
    assert not ExpiryNotice.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notify()[-1] == "1 notices sent"
    assert len(mailed) == 1


def test_the_expiry_date_is_written_in_utc(frozen_time, make_application, admin_user, mailed):
    make_application(expires_in_days=1)

    notify()

    expires = dt.datetime.fromtimestamp(1_800_000_000 + DAY, tz=dt.UTC)
    assert f"expires on {expires:%-d %b %Y at %H:%M} UTC" in mailed[0].body


def test_a_notice_another_run_recorded_meanwhile_is_not_sent_again(
    frozen_time, make_application, admin_user, mailed, monkeypatch
):
    make_application(expires_in_days=7)
    found = expiry.due_notices

    def found_then_sent_elsewhere(now):
        due = found(now)
        for notice in due:
            ExpiryNotice.objects.create(
                kind=notice.source.kind, credential=notice.credential.public_id, threshold_days=notice.threshold_days
            )
        return due

    monkeypatch.setattr(expiry, "due_notices", found_then_sent_elsewhere)

    assert notify()[-1] == "0 notices sent"
    assert mailed == []


def test_a_public_key_gets_its_notices_as_a_secret_does(frozen_time, make_application, admin_user, mailed):
    from applications.services import generate_key

    application, _ = make_application()
    key, private_key = generate_key(application=application, actor=COMMAND_LINE, expires_in_days=10)

    assert notify()[-1] == "1 notices sent"
    frozen_time[0] += 9.5 * DAY
    assert notify()[-1] == "1 notices sent"
    assert notify()[-1] == "0 notices sent"

    assert [message.subject for message in mailed] == [
        f"Public key {key.kid} of “Nightly sync” expires in 10 days",
        f"Public key {key.kid} of “Nightly sync” expires in less than a day",
    ]
    assert all(private_key not in message.body for message in mailed)
    notices = ExpiryNotice.objects.filter(kind="key", credential=key.public_id)
    assert sorted(notices.values_list("threshold_days", flat=True)) == [1, 14]

"""No TOTP secret or recovery code in any table, session, cache entry or log line: the secret only encrypted, the
codes only as hashes (contract §13)."""

import re
from datetime import datetime, timedelta

import pyotp
import pytest
from django.test import Client

from portal import crypto
from portal.models import AuthenticatorApp, RecoveryCode
from portal.tests.factories import PASSWORD
from portal.tests.storage import everything_stored
from portal.twofactor import TOTP_PURPOSE


def code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now() + timedelta(seconds=30 * offset_steps))


@pytest.mark.django_db(transaction=True)
def test_a_whole_two_factor_flow_leaves_no_secret_or_recovery_code_in_tables_caches_or_logs(
    admin_user, written_log, log_format, caplog
):
    browser = Client()
    login = {"username": admin_user.username, "password": PASSWORD}
    assert browser.post("/accounts/login/", login)["Location"] == "/"
    page = browser.get("/accounts/security/").content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    # While it waits for a code, the session holds the secret encrypted only.
    assert secret not in everything_stored(browser)
    assert browser.post("/accounts/security/authenticator/", {"code": "000000"}).status_code == 200
    added = browser.post("/accounts/security/authenticator/", {"code": code(secret)}).content.decode()
    codes = re.findall(r"<code>([a-z2-7-]{19})</code>", added)
    assert len(codes) == 10
    regenerated = browser.post("/accounts/security/recovery-codes/").content.decode()
    new_codes = re.findall(r"<code>([a-z2-7-]{19})</code>", regenerated)
    # A form without its CSRF token: Django logs the refusal.
    assert Client(enforce_csrf_checks=True).post("/accounts/verify/", {"code": new_codes[0]}).status_code == 403
    browser.post("/accounts/logout/")

    assert browser.post("/accounts/login/", login)["Location"] == "/accounts/verify/"
    assert browser.post("/accounts/verify/", {"code": code(secret)}).status_code == 200  # spent at set-up
    assert browser.post("/accounts/verify/", {"code": codes[0]}).status_code == 200  # voided
    assert browser.post("/accounts/verify/", {"code": new_codes[0]}).status_code == 302
    browser.post("/accounts/logout/")
    assert browser.post("/accounts/login/", login)["Location"] == "/accounts/verify/"
    assert browser.post("/accounts/verify/", {"code": code(secret, 1)}).status_code == 302

    app = AuthenticatorApp.objects.get()
    assert crypto.decrypt(app.encrypted_secret, purpose=TOTP_PURPOSE) == secret
    stored = everything_stored(browser)
    written = written_log.getvalue() + caplog.text
    for secret_text in (secret, secret.lower(), *codes, *new_codes, *(c.replace("-", "") for c in codes + new_codes)):
        assert secret_text not in stored
        assert secret_text not in written
    assert RecoveryCode.hash_code(new_codes[1].replace("-", "")) in stored
    assert "POST /accounts/verify/ 302" in written


def test_the_encryption_key_is_derived_from_the_secret_key(settings):
    token = crypto.encrypt("JBSWY3DPEHPK3PXP", purpose=TOTP_PURPOSE)

    assert crypto.decrypt(token, purpose=TOTP_PURPOSE) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(token, purpose="another purpose")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    assert crypto.decrypt(token, purpose=TOTP_PURPOSE) == "JBSWY3DPEHPK3PXP"  # a rotated key still reads it
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(token, purpose=TOTP_PURPOSE)

from math import ceil

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from portal.actors import client_address
from portal.form_tokens import form_token_field
from portal.models import Membership
from portal.names import name_key
from throttle import limits

# Usernames are easy to learn: a user is locked out only where the failures come from.
PER_USERNAME_ADDRESS = limits.Limit("signin-username-address", "SIGNIN_PER_USERNAME_ADDRESS")
PER_ADDRESS = limits.Limit("signin-address", "SIGNIN_PER_ADDRESS")


def password_guesses(username: str, address: str) -> list[tuple[limits.Limit, str]]:
    """The counters a guess at a user's password takes its place in, at sign-in and at password change alike.

    One password, one count: a session adds no guesses to those sign-in allows.
    """
    return [(PER_USERNAME_ADDRESS, f"{name_key(username)}\n{address}"), (PER_ADDRESS, address)]


class SignInForm(AuthenticationForm):
    """Django's sign-in form, locked for a while after repeated failures for a username from an address."""

    @sensitive_variables()
    def clean(self):
        username = self.cleaned_data.get("username")
        if username is None or self.cleaned_data.get("password") is None:
            return super().clean()  # nothing is checked without both
        address = client_address(self.request) or ""  # the sign-in view always passes its request
        attempt = limits.attempt(password_guesses(username, address))
        if attempt.wait:
            raise ValidationError(
                "Too many failed sign-ins. Try again in %(minutes)d minutes.",
                code="locked_out",
                params={"minutes": ceil(attempt.wait / 60)},
            )
        try:
            cleaned_data = super().clean()
        except ValidationError:
            attempt.failed()
            raise
        except BaseException:
            attempt.succeeded()  # not a wrong password (the database went away, say)
            raise
        attempt.succeeded()
        return cleaned_data


_EXPIRED = "This form is incomplete or has expired: open Invite member again."


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254, error_messages={"required": "Enter an email address."})
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose Admin or Member.", "invalid_choice": "Choose Admin or Member."},
    )
    # Spent by the first successful submission; the service refuses a second one with the same token.
    form_token = form_token_field(expired=_EXPIRED)


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=Membership.Role.choices, error_messages={"invalid_choice": "Choose Admin or Member."}
    )


# --- Two-factor sign-in ----------------------------------------------------------------------------------------------

# The second step counts per user from anywhere: whoever reached it already knows the password.
SECOND_STEP_PER_USER = limits.Limit("second-step-user", "SECOND_STEP_PER_USER")


def second_step_guesses(user_id: int, address: str) -> list[tuple[limits.Limit, str]]:
    """The counters a wrong code or passkey at the second step takes its place in: the user's, and the address's
    failed sign-ins."""
    return [(SECOND_STEP_PER_USER, str(user_id)), (PER_ADDRESS, address)]


class _OwnIds(forms.Form):
    """Element ids of the form's own (`<prefix>_<field>`): the security page shows several forms at once."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class AuthenticatorAppForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Enter the 6 digits the app shows."},
    )


class PasskeyForm(_OwnIds):
    id_prefix = "passkey"
    name = forms.CharField(
        label="Passkey name",
        max_length=64,
        help_text="Such as “Work laptop” or “Security key”.",
        error_messages={"required": "Name the passkey, so that you can tell it from others later."},
    )
    # The browser's answer (JSON), filled in by static/js/passkeys.js.
    credential = forms.CharField(widget=forms.HiddenInput, required=False, max_length=65536)


class SecondStepForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )
    credential = forms.CharField(widget=forms.HiddenInput, required=False, max_length=65536)


class ConfirmIdentityForm(_OwnIds):
    """What removing one's last second factor asks for: the password or a current code (or a passkey's signature)."""

    id_prefix = "confirm"

    confirmation = forms.CharField(
        label="Your password, or a current code from your authenticator app",
        max_length=4096,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    credential = forms.CharField(widget=forms.HiddenInput, required=False, max_length=65536)


class TwoFactorPolicyForm(forms.Form):
    require_two_factor = forms.BooleanField(label="Require two-factor sign-in for every member", required=False)

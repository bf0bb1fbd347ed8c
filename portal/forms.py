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

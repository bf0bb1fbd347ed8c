from math import ceil

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from portal.outage import unless_cache_down
from portal.throttle import Limit, record_failure, retry_after

PER_USERNAME = Limit("signin-username", "SIGNIN_PER_USERNAME")
PER_ADDRESS = Limit("signin-address", "SIGNIN_PER_ADDRESS")


class SignInForm(AuthenticationForm):
    """Django's sign-in form, locked for a while after repeated failures for a username or address."""

    def clean(self):
        checks = [
            (PER_USERNAME, (self.cleaned_data.get("username") or "").lower()),
            (PER_ADDRESS, self.request.META.get("REMOTE_ADDR", "") if self.request else ""),
        ]
        wait = unless_cache_down(retry_after, checks, default=0, what="sign-in brute-force check")
        if wait:
            raise ValidationError(
                "Too many failed sign-ins. Try again in %(minutes)d minutes.",
                code="locked_out",
                params={"minutes": ceil(wait / 60)},
            )
        try:
            return super().clean()
        except ValidationError:
            unless_cache_down(record_failure, checks, default=[], what="sign-in failure count")
            raise

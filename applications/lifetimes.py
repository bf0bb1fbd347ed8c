"""How long client secrets and access tokens live (contract §6): the choices the portal offers and their words,
the defaults, the limits, and how a form or the command line spells "until revoked".

The portal's forms, the rotatesecret command, the API's serializers, its schema and its Postman collection
read them here; the services enforce them.
"""

from dataclasses import dataclass

from oauth2_provider.settings import oauth2_settings


@dataclass(frozen=True)
class Period:
    """How long a secret keeps working, in seconds or days, or None: until it is revoked.

    The portal's forms list `offered`; the API, the command and the services take any whole number
    from `low` to `high`. Forms and the command line write None as `until_revoked`.
    """

    offered: dict[int | None, str]
    default: int | None
    low: int
    high: int
    until_revoked: str

    def parse(self, text: str) -> int | None:
        return None if text == self.until_revoked else int(text)

    def spell(self, value: int | None) -> str:
        return self.until_revoked if value is None else str(value)

    def form_choices(self) -> list[tuple[str, str]]:
        return [(self.spell(value), label) for value, label in self.offered.items()]


# Seconds the current secret keeps working once a new one is generated.
KEEP_CURRENT_FOR = Period(
    offered={0: "Stop it now", 3600: "1 hour", 86400: "24 hours", 604800: "7 days", None: "Until I revoke it"},
    default=86400,
    low=0,
    high=604800,
    until_revoked="forever",
)

# Days a new secret lives.
EXPIRES_IN_DAYS = Period(
    offered={None: "Never", 30: "30 days", 90: "90 days", 180: "180 days", 365: "365 days"},
    default=None,
    low=1,
    high=730,
    until_revoked="never",
)

# Seconds each access token of an application lives, and the words for them.
TOKEN_LIFETIMES = {300: "5 minutes", 900: "15 minutes", 3600: "1 hour", 43200: "12 hours", 86400: "24 hours"}


def token_lifetime_choices() -> list[int]:
    """The lifetimes an application may have: the contract's five and the server's default."""
    return sorted({*TOKEN_LIFETIMES, oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS})


def token_lifetime_label(seconds: int) -> str:
    return TOKEN_LIFETIMES.get(seconds, f"{seconds} seconds")

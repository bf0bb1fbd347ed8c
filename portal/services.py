from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.utils.text import slugify

from portal.models import Membership, Organization
from portal.selectors import find_organization, lookalike_username

USERNAME_TAKEN = "A user with that username already exists."
# The key of PostgreSQL's advisory lock over account creation: "username" in ASCII; any fixed number would do.
_USERNAMES_LOCK = 0x757365726E616D65


def refuse_lookalike_username(username: str, *, say_which: bool = False) -> None:
    """ValidationError when another user's name is the same name; call it in the transaction that creates the user.

    Account creations wait for each other here until the transaction ends, so two look-alike names at once cannot
    both pass: PostgreSQL takes an advisory lock; SQLite's IMMEDIATE transactions already serialize writers.
    """
    connection = connections[router.db_for_write(get_user_model())]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_USERNAMES_LOCK])
    existing = lookalike_username(username)
    if existing is not None:
        # The command line may name the account it found; a sign-up form names no other user.
        message = f"A user named {existing!r} already exists." if say_which else USERNAME_TAKEN
        raise ValidationError({"username": message})


def _unique_slug(name: str) -> str:
    base = slugify(name)[:180] or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def ensure_organization(*, name_or_slug: str) -> tuple[Organization, bool]:
    """The organization with this name or slug, created (named so) when there is none."""
    organization = find_organization(name_or_slug)
    if organization is not None:
        return organization, False
    return Organization.objects.create(name=name_or_slug, slug=_unique_slug(name_or_slug)), True


@transaction.atomic
def ensure_org_admin(*, organization: Organization, username: str, email: str, password: str | None):
    """Make the user exist and be an admin of the organization; running it again changes nothing else.

    The password is set when given, so a scripted set-up always knows the current one. A new name that is the same
    name as another user's (NFKC and case folding) is refused with a ValidationError.
    """
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    created = user is None
    if created:
        # As Django's forms store it; a look-alike of another user's name would be a second account of one name.
        username = User.normalize_username(username)
        refuse_lookalike_username(username, say_which=True)
        user = User.objects.create(username=username, email=email)
    if email and user.email != email:
        user.email = email
        user.save(update_fields=["email"])
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": Membership.Role.ADMIN}
    )
    if membership.role != Membership.Role.ADMIN:
        membership.role = Membership.Role.ADMIN
        membership.save(update_fields=["role"])
    return user, created

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from portal.models import Membership, Organization
from portal.selectors import find_organization


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

    The password is set when given, so a scripted set-up always knows the current one.
    """
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
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

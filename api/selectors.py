from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from api.models import Credential
from applications.oauth.reads import RowQuery


def credentials_for(organization) -> QuerySet[Credential]:
    """The organization's credentials, newest first. Tenant scoping happens here and nowhere else."""
    return Credential.objects.filter(organization=organization).order_by("-created_at", "-id")


def get_credential(*, organization, public_id) -> Credential:
    """The organization's credential, or Http404, also for another organization's credential."""
    return get_object_or_404(credentials_for(organization), public_id=public_id)


# A page of an organization's credentials and their total in one SELECT, as plain values: the list
# endpoint's hot path, where the ORM's count and page queries, compiled anew on every request, and
# twenty model instances cost more than the database did.
_credential_page = RowQuery(
    [(Credential, "c", {"public_id", "visibility", "created_at"})],
    # The order of credentials_for(), served by the index credential_org_newest.
    "FROM {c} WHERE {c.organization_id} = %s ORDER BY {c.created_at} DESC, {c.id} DESC LIMIT %s OFFSET %s",
    raw={
        # The JSON text the database holds (Django loads PostgreSQL's jsonb as text too), for the
        # renderer to embed as it is.
        "document": "{c.document}",
        # The count as an uncorrelated subquery (its own "c"), evaluated once from the index; a window
        # COUNT(*) OVER () would read every row of the organization, documents included.
        "total": "(SELECT COUNT(*) FROM {c} WHERE {c.organization_id} = %s)",
    },
)
CREDENTIAL_PAGE_COLUMNS = _credential_page.columns[:-1]


def credential_page(*, organization, offset: int, limit: int) -> tuple[int | None, list]:
    """(total, rows of CREDENTIAL_PAGE_COLUMNS); (None, []) past the end."""
    rows = _credential_page.values(organization.pk, organization.pk, limit, offset)
    if not rows:
        return None, []
    return rows[0][-1], [row[:-1] for row in rows]

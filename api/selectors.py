from django.db import connections, router
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from api.models import Credential


def credentials_for(organization) -> QuerySet[Credential]:
    """The organization's credentials, newest first. Tenant scoping happens here and nowhere else."""
    return Credential.objects.filter(organization=organization).order_by("-created_at", "-id")


def get_credential(*, organization, public_id) -> Credential:
    """The organization's credential, or Http404, also for another organization's credential."""
    return get_object_or_404(credentials_for(organization), public_id=public_id)


class _CredentialPage:
    """A page of an organization's credentials and their total in one SELECT, as plain values.

    The list endpoint's hot path: the ORM's count and page queries, compiled anew on every
    request, and twenty model instances cost more than the database did. The SQL and the
    column converters are built once per database; each document is returned as the JSON
    text the database holds, for the renderer to embed as it is.
    """

    def __init__(self):
        self.compiled = {}

    def _compile(self, using):
        connection = connections[using]
        qn = connection.ops.quote_name
        meta = Credential._meta
        fields = [meta.get_field(name) for name in ("public_id", "visibility", "created_at")]
        document = qn(meta.get_field("document").column)
        # PostgreSQL's jsonb goes out as text (Django loads jsonb as text too); SQLite stores text.
        document_sql = f"{document}::text" if connection.vendor == "postgresql" else document
        converters = []
        for field in fields:
            col = field.get_col(meta.db_table)
            steps = [*connection.ops.get_db_converters(col), *field.get_db_converters(connection)]
            converters.append([(convert, col) for convert in steps])
        table, organization = qn(meta.db_table), qn(meta.get_field("organization").column)
        sql = (
            # The count as an uncorrelated subquery, evaluated once from the index; a window
            # COUNT(*) OVER () would read every row of the organization, documents included.
            f"SELECT {', '.join(qn(f.column) for f in fields)}, {document_sql}, "
            f"(SELECT COUNT(*) FROM {table} WHERE {organization} = %s) "
            f"FROM {table} WHERE {organization} = %s "
            # The order of credentials_for(), served by the index credential_org_newest.
            f"ORDER BY {qn(meta.get_field('created_at').column)} DESC, {qn(meta.pk.column)} DESC LIMIT %s OFFSET %s"
        )
        self.compiled[using] = (sql, converters)
        return self.compiled[using]

    def __call__(self, *, organization, offset: int, limit: int) -> tuple[int | None, list[tuple]]:
        """(total, rows of (public_id, visibility, created_at, document JSON text)); (None, []) past the end."""
        using = router.db_for_read(Credential)
        sql, converters = self.compiled.get(using) or self._compile(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, (organization.pk, organization.pk, limit, offset))
            rows = cursor.fetchall()
        if not rows:
            return None, []
        page = []
        for *values, document, _ in rows:
            converted = []
            for value, steps in zip(values, converters, strict=True):
                for convert, col in steps:
                    value = convert(value, col, connection)
                converted.append(value)
            page.append((*converted, document))
        return rows[0][-1], page


credential_page = _CredentialPage()

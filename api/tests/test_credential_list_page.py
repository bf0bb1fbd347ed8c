"""GET /api/credentials reads its page and count in one query and renders with orjson: the answer must be
exactly what DRF's serializer and paginator give for the same rows."""

import copy
import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.fields import DateTimeField as DrfDateTimeField
from rest_framework.utils.urls import remove_query_param, replace_query_param

from api.examples import VERIFIABLE_CREDENTIAL
from api.selectors import credentials_for
from api.serializers import CredentialSerializer
from api.tests.helpers import bearer

ORIGIN = "http://testserver/api/credentials"


def expected_page(organization, *, page: int, size: int, query: str) -> dict:
    rows = list(credentials_for(organization))
    count = len(rows)
    pages = max(1, -(-count // size))
    base = ORIGIN + (f"?{query}" if query else "")

    results = json.loads(json.dumps(CredentialSerializer(rows[(page - 1) * size : page * size], many=True).data))
    previous = None
    if page > 1:
        previous = remove_query_param(base, "page") if page == 2 else replace_query_param(base, "page", page - 1)
    return {
        "count": count,
        "next": replace_query_param(base, "page", page + 1) if page < pages else None,
        "previous": previous,
        "results": [
            # createdAt as DRF's own DateTimeField writes it, not the API's copy of it.
            {**item, "createdAt": DrfDateTimeField().to_representation(row.created_at)}
            for row, item in zip(rows[(page - 1) * size : page * size], results, strict=True)
        ],
    }


@pytest.fixture
def credentials(make_credential, organization, other_organization):
    started = timezone.now()
    documents = [copy.deepcopy(VERIFIABLE_CREDENTIAL) for _ in range(45)]
    documents[3]["credentialSubject"]["name"] = 'Zoë \u2028 «quoted» "x" \\ ✓'
    documents[4]["credentialSubject"]["big"] = 2**70
    documents[5]["credentialSubject"]["nested"] = {"deep": [1, 2.5, None, True, {"k": "v"}]}
    for number, document in enumerate(documents):
        # Two share a creation time: the id breaks the tie, as in credentials_for().
        created = started - dt.timedelta(minutes=number if number != 7 else 6)
        make_credential(document=document, created_at=created, visibility="public" if number % 3 else "private")
    make_credential(organization=other_organization)
    return organization


@pytest.mark.parametrize(
    "query, page, size",
    [
        ("", 1, 20),
        ("page=1", 1, 20),
        ("page=2", 2, 20),
        ("page=3", 3, 20),
        ("page_size=7&page=4", 4, 7),
        ("page_size=100", 1, 45),
        ("page_size=0", 1, 20),
        ("page_size=x&page=2", 2, 20),
        ("page=last", 3, 20),
    ],
)
def test_a_page_is_what_drf_would_answer(client, full_token, credentials, query, page, size):
    response = client.get(f"/api/credentials?{query}" if query else "/api/credentials", **bearer(full_token))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == expected_page(credentials, page=page, size=size if size != 45 else 100, query=query)


def test_a_page_in_another_time_zone_is_what_drf_would_answer(client, full_token, credentials, settings):
    settings.TIME_ZONE = "America/St_Johns"
    response = client.get("/api/credentials?page=2", **bearer(full_token))

    assert response.json() == expected_page(credentials, page=2, size=20, query="page=2")
    assert response.json()["results"][0]["createdAt"].endswith(("-03:30", "-02:30"))


def test_text_that_is_not_javascript_never_appears_raw(client, full_token, credentials):
    response = client.get("/api/credentials", **bearer(full_token))

    assert "\u2028".encode() not in response.content
    names = [item["verifiableCredential"]["credentialSubject"].get("name") for item in response.json()["results"]]
    assert 'Zoë \u2028 «quoted» "x" \\ ✓' in names


@pytest.mark.parametrize("page", ["4", "0", "-1", "x", "99999999999999999999", "1.5"])
def test_pages_that_do_not_exist_are_404_as_before(client, full_token, credentials, page):
    response = client.get(f"/api/credentials?page={page}", **bearer(full_token))

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_an_empty_organization_has_an_empty_first_page(client, full_token, db):
    response = client.get("/api/credentials", **bearer(full_token))

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert client.get("/api/credentials?page=2", **bearer(full_token)).status_code == 404

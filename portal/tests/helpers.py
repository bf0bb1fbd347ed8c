import re

from django.test import Client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_token_of(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def invitation_link_of(page: str) -> str:
    return re.search(r'data-testid="invitation-link">([^<]+)<', page).group(1)

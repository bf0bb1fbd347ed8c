import pytest

pytestmark = pytest.mark.browser


def test_admin_signs_in_and_sees_the_applications_list(signed_in_page):
    assert signed_in_page.get_by_role("heading", name="Applications", exact=True).is_visible()
    assert signed_in_page.get_by_role("heading", name="No applications yet").is_visible()

"""Steps the browser tests share."""

from portal.tests.factories import PASSWORD


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/integrations/applications/")


def press(page, button: str, *, then: str) -> None:
    """Press the button, then wait for `then`, a text of the page it leads to."""
    page.get_by_role("button", name=button).click()
    page.get_by_text(then).wait_for()


def confirm(page, *, question: str, button: str, then: str) -> None:
    """On a confirmation page: wait for its question, then press the button that confirms."""
    page.get_by_role("heading", name=question).wait_for()
    press(page, button, then=then)


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")

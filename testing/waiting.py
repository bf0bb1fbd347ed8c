"""Waiting for what proves a moment has come, never for a while: a slower machine only takes longer."""

import time


def wait_until(condition, *, timeout: float = 30, what: str = "the condition", interval: float = 0.02):
    """Call `condition` until it returns something true and return that; fail once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not seen within {timeout:g} s")
        time.sleep(interval)  # the poll's pace, inside the deadline

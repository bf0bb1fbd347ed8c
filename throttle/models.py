from django.db import models


class FailureCounter(models.Model):
    """Failed authentications of one subject under one limit, in a window fixed when it starts (throttle.limits).

    A table of its own rather than the cache: no cache culling or eviction can drop a
    counter before its window ends, and one upsert increments it atomically.
    """

    # SHA-256 of the limit's name and the subject (an address, a client ID with an address…).
    key = models.CharField(max_length=64, primary_key=True)
    # Failures counted in the window, plus attempts being answered right now.
    failures = models.IntegerField()
    # The window's end, in seconds since the epoch; set when the window starts and never moved.
    expires_at = models.FloatField(db_index=True)

    class Meta:
        # The table was created while the counters lived in the portal app; it kept its name.
        db_table = "portal_failurecounter"

    def __str__(self):
        return f"{self.failures} failures until {self.expires_at:.0f}"


class ClaimedOnce(models.Model):
    """A value accepted once until `expires_at` (throttle.once): a client assertion's jti, say.

    A table of its own for the counters' reason: nothing culls or evicts a claim before it ends.
    """

    # SHA-256 of what was claimed.
    key = models.CharField(max_length=64, primary_key=True)
    # When the claim ends, in seconds since the epoch; the same value may be claimed again after it.
    expires_at = models.FloatField(db_index=True)

    def __str__(self):
        return f"claimed until {self.expires_at:.0f}"

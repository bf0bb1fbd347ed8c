from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Organizations"

    def ready(self):
        from portal.throttle import check_redis_eviction_policy

        # Every process, before it serves: a Redis that may evict counters could lift a lockout.
        check_redis_eviction_policy()

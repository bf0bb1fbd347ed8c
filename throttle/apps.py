from django.apps import AppConfig


class ThrottleConfig(AppConfig):
    name = "throttle"
    verbose_name = "Brute-force limits"

    def ready(self):
        from throttle.limits import check_redis_eviction_policy

        # Every process, before it serves: a Redis that may evict counters could lift a lockout.
        check_redis_eviction_policy()

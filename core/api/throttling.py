"""Rate limits per app id (not per IP: platforms call from server farms behind NAT).

The rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["platform"] (e.g. "1200/min"), read on
every request so a settings override applies at once. Counters live in Django's cache:
in production CACHES["default"] must be shared by every web process (CACHE_URL=redis://...,
the Redis that already carries Celery); the per-process memory cache of the quick start
limits each process separately."""
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class AppIdRateThrottle(SimpleRateThrottle):
    scope = "platform"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        app_id = getattr(request.user, "app_id", None)
        if not app_id:
            return None  # unauthenticated requests never reach here (401 first)
        scope = getattr(request.user, "scope", "") or self.scope
        return self.cache_format % {"scope": scope, "ident": app_id}

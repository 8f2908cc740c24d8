"""The platform API, mounted at /api/v1/ by config/urls.py.

Each app keeps its routes in `<app>/api/urls.py` (paths relative to /api/v1/, no trailing
slash). Apps whose API arrives later (credit, reconciliation) are included as soon as their
`api/urls.py` exists; nothing here needs editing. The last route answers the JSON 404
envelope for any unknown path under /api/v1/."""
import importlib.util

from django.urls import include, path, re_path

from core.api.views import RouteNotFound  # importing it registers the <uid:...> and <id:...> converters

API_APPS = ["merchants", "ledger", "credit", "reconciliation", "receipts"]


def _has_api(app: str) -> bool:
    try:
        return importlib.util.find_spec(f"{app}.api.urls") is not None
    except ModuleNotFoundError:
        return False


urlpatterns = [path("", include(f"{app}.api.urls")) for app in API_APPS if _has_api(app)]
urlpatterns.append(re_path(r"^.*$", RouteNotFound.as_view(), name="api-not-found"))

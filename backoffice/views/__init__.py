"""Back-office pages, in the admin's frame (sidebar, language switch) and behind its login
(backoffice.urls wraps each view in admin.site.admin_view)."""
from .jobs import job_page, job_status  # noqa: F401
from .pages import complaint_lookup, merchant_360  # noqa: F401
from .performance import performance_export, performance_page  # noqa: F401

"""Back-office pages, mounted at /backoffice/ by config/urls.py. Every view sits behind the
admin's own login and permission check (admin.site.admin_view)."""
from django.contrib import admin
from django.urls import path

from . import views
from .views.jobs import eod_job_status

app_name = "backoffice"


def staff(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("merchants/<int:pk>/", staff(views.merchant_360), name="merchant-360"),
    path("complaints/", staff(views.complaint_lookup), name="complaints"),
    path("performance/", staff(views.performance_page), name="performance"),
    path("performance/export/", staff(views.performance_export), name="performance-export"),
    path("jobs/<int:pk>/", staff(views.job_page), name="job"),
    path("jobs/<int:pk>/status/", staff(views.job_status), name="job-status"),
    path("jobs/end-of-day/<int:merchant_id>/<str:day>/", staff(eod_job_status), name="eod-job-status"),
]

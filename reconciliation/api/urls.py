from django.urls import path

from . import views

urlpatterns = [
    path("reconciliation/order-files", views.OrderFileCreate.as_view(), name="api-order-files"),
    path("reconciliation/runs/<str:business_date>", views.RunDetail.as_view(), name="api-reconciliation-run"),
    path("reconciliation/runs/<str:business_date>/differences", views.RunDifferences.as_view(),
         name="api-reconciliation-run-differences"),
]

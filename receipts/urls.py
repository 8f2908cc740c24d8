"""Public pages of receipts (no sign-in): the verification page the receipts' QR codes point at.
Staff download receipts in the admin (receipts.admin); platforms through the API (receipts.api)."""
from django.urls import path

from . import views

app_name = "receipts"

urlpatterns = [
    path("verify", views.verify, name="verify"),
]

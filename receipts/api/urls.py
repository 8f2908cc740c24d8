"""Receipt downloads beside the movements they prove (included by config/api_urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("payments/<id:pk>/receipt", views.PaymentReceipt.as_view(), name="api-payment-receipt"),
    path("payments/<id:pk>/refunds/<id:refund_id>/receipt", views.RefundReceipt.as_view(),
         name="api-refund-receipt"),
    path("deposits/<id:pk>/receipt", views.DepositReceipt.as_view(), name="api-deposit-receipt"),
    path("withdrawals/<id:pk>/receipt", views.WithdrawalReceipt.as_view(), name="api-withdrawal-receipt"),
]

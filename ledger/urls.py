"""Staff pages of the ledger outside the admin: printable receipts (回单). Included under
`ledger/` by config/urls.py."""
from django.urls import path

from . import receipts

app_name = "ledger"

urlpatterns = [
    path("receipts/payments/<int:pk>/", receipts.payment_receipt, name="payment-receipt"),
    path("receipts/refunds/<int:pk>/", receipts.refund_receipt, name="refund-receipt"),
    path("receipts/withdrawals/<int:pk>/", receipts.withdrawal_receipt, name="withdrawal-receipt"),
]

from django.urls import path

from . import views, views_channels, views_payments

urlpatterns = [
    path("members/<uid:user_id>/balance", views.MemberBalance.as_view(), name="api-member-balance"),
    path("members/<uid:user_id>/entries", views.MemberEntries.as_view(), name="api-member-entries"),
    path("deposits", views.DepositCreate.as_view(), name="api-deposits"),
    path("deposits/<id:pk>", views.DepositDetail.as_view(), name="api-deposit"),
    path("channels/<slug:channel_code>/notifications", views_channels.ChannelNotification.as_view(),
         name="api-channel-notifications"),
    path("payments", views_payments.Payments.as_view(), name="api-payments"),
    path("payments/batch", views_payments.PaymentBatch.as_view(), name="api-payments-batch"),
    path("payments/<id:pk>", views_payments.PaymentDetail.as_view(), name="api-payment"),
    path("payments/<id:pk>/release", views_payments.PaymentRelease.as_view(), name="api-payment-release"),
    path("payments/<id:pk>/refunds", views_payments.PaymentRefunds.as_view(), name="api-payment-refunds"),
    path("withdrawals", views_payments.WithdrawalCreate.as_view(), name="api-withdrawals"),
    path("withdrawals/<id:pk>", views_payments.WithdrawalDetail.as_view(), name="api-withdrawal"),
]

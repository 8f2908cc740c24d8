from django.urls import path

from .views import channels, confirmations, deposits, members, payments, reserve, withdrawals

urlpatterns = [
    path("members/<uid:user_id>/balance", members.MemberBalance.as_view(), name="api-member-balance"),
    path("members/<uid:user_id>/entries", members.MemberEntries.as_view(), name="api-member-entries"),
    path("deposits", deposits.DepositCreate.as_view(), name="api-deposits"),
    path("deposits/<id:pk>", deposits.DepositDetail.as_view(), name="api-deposit"),
    path("risk-reserve", reserve.RiskReserve.as_view(), name="api-risk-reserve"),
    path("risk-reserve/deposits", reserve.ReserveDepositCreate.as_view(), name="api-risk-reserve-deposits"),
    path("platform-account/deposits", reserve.PlatformDepositCreate.as_view(), name="api-platform-deposits"),
    path("channels/<slug:channel_code>/notifications", channels.ChannelNotification.as_view(),
         name="api-channel-notifications"),
    path("payments", payments.Payments.as_view(), name="api-payments"),
    path("payments/batch", payments.PaymentBatch.as_view(), name="api-payments-batch"),
    path("payments/<id:pk>", payments.PaymentDetail.as_view(), name="api-payment"),
    path("payments/<id:pk>/release", payments.PaymentRelease.as_view(), name="api-payment-release"),
    path("payments/<id:pk>/refunds", payments.PaymentRefunds.as_view(), name="api-payment-refunds"),
    path("withdrawals", withdrawals.WithdrawalCreate.as_view(), name="api-withdrawals"),
    path("withdrawals/<id:pk>", withdrawals.WithdrawalDetail.as_view(), name="api-withdrawal"),
    path("challenges/<slug:token>/confirm", confirmations.ChallengeConfirm.as_view(), name="api-challenge-confirm"),
]

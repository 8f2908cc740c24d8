from django.urls import path

from . import views

urlpatterns = [
    path("members/<uid:user_id>/credit-line", views.MemberCreditLine.as_view(), name="api-member-credit-line"),
    path("credit/drawdowns", views.Drawdowns.as_view(), name="api-credit-drawdowns"),
    path("credit/bills", views.Bills.as_view(), name="api-credit-bills"),
    path("credit/bills/<id:pk>", views.BillDetail.as_view(), name="api-credit-bill"),
    path("credit/bills/<id:pk>/repayments", views.Repayments.as_view(), name="api-credit-repayments"),
]

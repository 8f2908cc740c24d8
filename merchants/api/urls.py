from django.urls import path

from . import views

urlpatterns = [
    path("members", views.MemberCreate.as_view(), name="api-members"),
    path("members/<uid:user_id>", views.MemberDetail.as_view(), name="api-member"),
    path("members/<uid:user_id>/bank-cards", views.BankCards.as_view(), name="api-bank-cards"),
    path("members/<uid:user_id>/bank-cards/<id:pk>/verify", views.BankCardVerify.as_view(),
         name="api-bank-card-verify"),
]

from django.urls import path

from . import views

app_name = "billing"
urlpatterns = [
    path("", views.settlement_list, name="settlement_list"),
    path("<int:pk>/", views.settlement_detail, name="settlement_detail"),
    path("<int:pk>/progress/", views.settlement_progress, name="settlement_progress"),
    path("<int:pk>/lines/", views.settlement_lines, name="settlement_lines"),
    path("<int:pk>/download/", views.settlement_download, name="settlement_download"),
    path("<int:pk>/download/<slug:sheet>/", views.settlement_download, name="settlement_download_sheet"),
    path("<int:pk>/confirm/", views.settlement_confirm, name="settlement_confirm"),
    path("<int:pk>/recompute/", views.settlement_recompute, name="settlement_recompute"),
    path("<int:pk>/discard/", views.settlement_discard, name="settlement_discard"),
    path("<int:pk>/payments/", views.settlement_payments, name="settlement_payments"),
    path("<int:pk>/proposals/", views.settlement_proposals, name="settlement_proposals"),
]

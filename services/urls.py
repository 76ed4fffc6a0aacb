from django.urls import path

from . import views

app_name = "services"
urlpatterns = [
    path("sw.js", views.service_worker, name="service_worker"),
    path("caregiver/", views.caregiver_day, name="caregiver_day"),
    path("caregiver/check-in/<int:recipient_id>/", views.caregiver_check_in, name="caregiver_check_in"),
    path("caregiver/emergency/<int:recipient_id>/", views.caregiver_emergency, name="caregiver_emergency"),
    path("caregiver/visits/<uuid:client_id>/check-out/", views.caregiver_check_out, name="caregiver_check_out"),
    path("caregiver/visits/<uuid:client_id>/confirm/", views.caregiver_confirm, name="caregiver_confirm"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard.json", views.dashboard_json, name="dashboard_json"),
    path("report/", views.compliance_report, name="compliance_report"),
    path("report/export/", views.compliance_export, name="compliance_export"),
    path("exceptions/", views.exception_queue, name="exception_queue"),
    path("corrections/", views.correction_queue, name="correction_queue"),
    path("visits/<uuid:client_id>/", views.visit_detail, name="visit_detail"),
    path("photos/<int:pk>/", views.visit_photo, name="visit_photo"),
    path("plan/", views.plan, name="plan"),
    path("gps-rules/", views.gps_rules, name="gps_rules"),
    path("cards/", views.card_list, name="card_list"),
    path("cards/<int:recipient_id>/issue/", views.card_issue, name="card_issue"),
    path("cards/<int:recipient_id>/revoke/", views.card_revoke, name="card_revoke"),
]

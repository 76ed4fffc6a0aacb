from django.urls import path

from . import views

app_name = "recipients"
urlpatterns = [
    path("", views.recipient_list, name="recipient_list"),
    path("find/", views.recipient_find, name="recipient_find"),
    path("<int:pk>/", views.recipient_detail, name="recipient_detail"),
    path("<int:pk>/reveal-id/", views.recipient_reveal_id, name="recipient_reveal_id"),
    path("<int:pk>/report-change/", views.assessment_report, name="assessment_report"),
    path("<int:pk>/report-exit/", views.exit_report, name="exit_report"),
    path("roster/", views.roster_upload, name="roster_upload"),
    path("roster/template.xlsx", views.roster_template, name="roster_template"),
    path("roster/<int:pk>/", views.roster_preview, name="roster_preview"),
    path("roster/<int:pk>/progress.json", views.roster_progress, name="roster_progress"),
    path("approvals/", views.approval_list, name="approval_list"),
    path("approvals/assessments/", views.assessment_decide_batch, name="assessment_decide_batch"),
    path("approvals/assessments/<int:pk>/", views.assessment_decide, name="assessment_decide"),
    path("approvals/exits/", views.exit_decide_batch, name="exit_decide_batch"),
    path("approvals/exits/<int:pk>/", views.exit_decide, name="exit_decide"),
    path("reports/", views.report_list, name="report_list"),
]

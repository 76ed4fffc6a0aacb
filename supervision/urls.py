from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("evaluations/", views.evaluation_list, name="evaluation_list"),
    path("evaluations/start/", views.evaluation_start, name="evaluation_start"),
    path("evaluations/missing/", views.evaluation_missing, name="evaluation_missing"),
    path("evaluations/remind/", views.evaluation_remind, name="evaluation_remind"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation_detail"),
    path("evaluations/<int:pk>/return/", views.evaluation_return, name="evaluation_return"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("problems/", views.problem_list, name="problem_list"),
    path("problems/new/", views.problem_report, name="problem_report"),
    path("problems/<int:pk>/", views.problem_detail, name="problem_detail"),
    path("problems/<int:pk>/photos/<int:photo>/", views.problem_photo, name="problem_photo"),
    path("rectifications/", views.rectification_list, name="rectification_list"),
    path("rectifications/new/", views.rectification_issue, name="rectification_issue"),
    path("rectifications/<int:pk>/", views.rectification_detail, name="rectification_detail"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/new/", views.complaint_create, name="complaint_create"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("spot-checks/", views.spot_check_list, name="spot_check_list"),
    path("spot-checks/new/", views.spot_check_record, name="spot_check_record"),
    path("spot-checks/draw/", views.spot_check_draw, name="spot_check_draw"),
    path("spot-checks/draws/<int:pk>/", views.spot_check_draw_detail, name="spot_check_draw_detail"),
    path("cross-check/", views.crosscheck, name="crosscheck"),
    path("cross-check/<int:pk>/", views.crosscheck_batch, name="crosscheck_batch"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/start/", views.review_start, name="review_start"),
    path("termination/", views.termination, name="termination"),
    path("deductions/", views.deductions, name="deductions"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("reviews/<int:pk>/takeover/", views.takeover, name="takeover"),
    path("takeovers/<int:pk>/", views.takeover_report, name="takeover_report"),
]

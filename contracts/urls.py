from django.urls import path

from . import views

app_name = "contracts"
urlpatterns = [
    path("agreements/", views.agreement_list, name="agreement_list"),
    path("agreements/new/", views.agreement_create, name="agreement_create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<int:pk>/print/", views.agreement_print, name="agreement_print"),
    path("caregivers/", views.caregiver_list, name="caregiver_list"),
    path("caregivers/new/", views.caregiver_create, name="caregiver_create"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/read/", views.notice_mark_read, name="notice_mark_read"),
    path("caregivers/<int:pk>/deactivate/", views.caregiver_deactivate, name="caregiver_deactivate"),
]

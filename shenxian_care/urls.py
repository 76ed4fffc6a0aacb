from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views
from .api import SignInView

admin.site.site_header = "莘县分散供养特困人员照料服务平台"
admin.site.site_title = "莘县特困照料服务平台"
admin.site.index_title = "县民政局业务管理"

api_v1 = [
    path("auth/token/", SignInView.as_view(), name="api-sign-in"),
    path("", include("recipients.api_urls")),
    path("", include("contracts.api_urls")),
    path("", include("services.api_urls")),
    path("", include("supervision.api_urls")),
    path("", include("billing.api_urls")),
]

if settings.ADMIN_REQUIRE_OTP:
    # Bureau staff must confirm a TOTP code from their phone before the admin opens.
    admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("portal/", include(("shenxian_care.portal_urls", "portal"))),
    path("portal/recipients/", include("recipients.urls")),
    path("portal/contracts/", include("contracts.urls")),
    path("portal/services/", include("services.urls")),
    path("portal/supervision/", include("supervision.urls")),
    path("portal/billing/", include("billing.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

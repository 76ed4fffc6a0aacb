from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views
from .api import SignInView
from .content_security import REDOC, relax

admin.site.site_header = "莘县分散供养特困人员照料服务平台"
admin.site.site_title = "莘县特困照料服务平台"
admin.site.index_title = "县民政局业务管理"

# One API root listing every app's endpoints: each app registers its viewsets on its own router
# (`<app>/api_urls.py`), gathered here in the apps' order.
API_APPS = ["recipients", "contracts", "services", "supervision", "billing"]
api_router = DefaultRouter(trailing_slash=True)
for app in API_APPS:
    api_router.registry.extend(import_module(f"{app}.api_urls").router.registry)

api_v1 = [
    path("auth/token/", SignInView.as_view(), name="api-sign-in"),
    path("", include(api_router.urls)),
]

if settings.ADMIN_REQUIRE_OTP:
    # Bureau staff must confirm a TOTP code from their phone before the admin opens.
    admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
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
    # The split view serves Swagger UI's start-up script from ?script instead of inline (script-src 'self'). The two
    # documentation pages are pages a person opens: not signed in, they are sent to the sign-in page and back (an API
    # client asking for the schema is answered 401, in Chinese).
    path(
        "api/docs/",
        login_required(
            SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs/swagger_ui.html")
        ),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        login_required(
            relax(REDOC)(SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html"))
        ),
        name="api-redoc",
    ),
]

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .admin_mixins import ScopedAdminMixin
from .models import User


@admin.register(User)
class UserAdmin(ScopedAdminMixin, BaseUserAdmin):
    list_display = ("username", "get_full_name", "role", "town", "provider", "is_active", "last_login")
    list_filter = ("role", "is_active", "town", "provider")
    search_fields = ("username", "first_name", "last_name", "phone")
    list_select_related = ("town", "provider")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("角色与范围", {"fields": ("role", "town", "provider", "phone")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("角色与范围", {"fields": ("role", "town", "provider", "last_name", "first_name")}),
    )

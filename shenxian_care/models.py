from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    BUREAU = "bureau", "县民政局工作人员"
    FINANCE = "finance", "县财政局"
    TOWN = "town", "镇（街道）工作人员"
    PROVIDER = "provider", "服务机构工作人员"
    CAREGIVER = "caregiver", "照料护理人"


class User(AbstractUser):
    """A portal login. The role decides what the person may see (see `shenxian_care.scoping`)."""

    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.BUREAU)
    town = models.ForeignKey(
        "recipients.Town",
        verbose_name="所属镇（街道）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officials",
    )
    provider = models.ForeignKey(
        "contracts.Provider",
        verbose_name="所属服务机构",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    phone = models.CharField("手机号", max_length=20, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                name="user_town_role_has_town",
                condition=~Q(role="town") | Q(town__isnull=False),
                violation_error_message="镇（街道）工作人员必须指定所属镇（街道）。",
            ),
            models.CheckConstraint(
                name="user_provider_role_has_provider",
                condition=~Q(role="provider") | Q(provider__isnull=False),
                violation_error_message="服务机构工作人员必须指定所属服务机构。",
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def get_full_name(self):
        # Chinese names: family name first, no space.
        return f"{self.last_name}{self.first_name}".strip()

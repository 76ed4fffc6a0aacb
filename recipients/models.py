import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from shenxian_care.crypto import digest
from shenxian_care.fields import (
    DigestField,
    EncryptedBinaryField,
    EncryptedJSONField,
    EncryptedTextField,
    MaskedIdField,
)
from shenxian_care.months import next_month
from shenxian_care.scoping import ScopedQuerySet
from shenxian_care.validators import normalize_id_number, validate_id_number, validate_phone


class CareLevel(models.TextChoices):
    SELF_CARE = "self_care", "自理"
    PARTIAL = "partial", "半失能"
    FULL = "full", "失能"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "待审定"
    APPROVED = "approved", "已审定"
    REJECTED = "rejected", "未通过"


class TownQuerySet(ScopedQuerySet):
    scope_town = "pk"
    scope_finance_all = True


class Town(models.Model):
    """One of the county's 24 towns and sub-districts (reference data, loaded by a migration)."""

    code = models.CharField("编码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=32, unique=True)
    kind = models.CharField("类型", max_length=16, choices=[("town", "镇"), ("subdistrict", "街道")])
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    objects = TownQuerySet.as_manager()

    class Meta:
        verbose_name = "镇（街道）"
        verbose_name_plural = "镇（街道）"
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class VillageQuerySet(ScopedQuerySet):
    scope_town = "town"
    scope_finance_all = True


class Village(models.Model):
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="villages")
    name = models.CharField("村（居）委会", max_length=64)

    objects = VillageQuerySet.as_manager()

    class Meta:
        verbose_name = "村（居）民委员会"
        verbose_name_plural = "村（居）民委员会"
        ordering = ["town__sort_order", "name"]
        constraints = [models.UniqueConstraint(fields=["town", "name"], name="village_unique_name_in_town")]

    def __str__(self):
        return f"{self.town.name}{self.name}"


class CivilCapacity(models.TextChoices):
    FULL = "full", "完全民事行为能力"
    LIMITED = "limited", "限制民事行为能力"
    NONE = "none", "无民事行为能力"


class RecipientQuerySet(ScopedQuerySet):
    scope_town = "town"
    # A provider sees the people of the towns its contracts in force serve (to sign agreements) and those it
    # serves; a caregiver those it serves now (contracts.scoping): nobody once service has ended.
    scope_served_recipient = "pk"

    def in_support_between(self, first, last):
        """Recipients in support on some day of [first, last] (inclusive): entry date <= day < exit date."""
        return self.filter(in_support_q(first, last))

    def in_support_on(self, day):
        return self.in_support_between(day, day)

    def with_id_number(self, number):
        """The recipient with this ID number (15 or 18 digits, any case), found by its digest."""
        return self.filter(id_number_digest=digest(normalize_id_number(number)))

    def with_id_numbers(self, numbers):
        return self.filter(id_number_digest__in=[digest(normalize_id_number(n)) for n in numbers])


class Recipient(models.Model):
    """A dispersed-support extremely poor person (分散供养特困人员) under the county's care."""

    name = models.CharField("姓名", max_length=32)
    # Encrypted at rest; unique and searchable through its keyed digest; shown masked from its masked copy.
    id_number = EncryptedTextField("身份证号", validators=[validate_id_number], help_text="18位，末位可为X")
    id_number_digest = DigestField("身份证号摘要", source="id_number", unique=True, null=True)
    id_number_masked = MaskedIdField(
        "身份证号（脱敏）", source="id_number", db_index=True, blank=True, default="", db_default=""
    )
    sex = models.CharField("性别", max_length=1, choices=[("M", "男"), ("F", "女")], editable=False)
    birth_date = models.DateField("出生日期", editable=False)
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="recipients")
    village = models.ForeignKey(
        Village, verbose_name="村（居）委会", on_delete=models.PROTECT, related_name="recipients"
    )
    address = models.CharField("住址", max_length=200, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True, validators=[validate_phone])
    home_latitude = models.DecimalField("住址纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    home_longitude = models.DecimalField("住址经度", max_digits=9, decimal_places=6, null=True, blank=True)
    civil_capacity = models.CharField(
        "民事行为能力", max_length=8, choices=CivilCapacity.choices, default=CivilCapacity.FULL
    )
    guardian_name = models.CharField("监护人姓名", max_length=32, blank=True)
    guardian_id_number = EncryptedTextField("监护人身份证号", blank=True, validators=[validate_id_number])
    guardian_phone = models.CharField("监护人电话", max_length=20, blank=True, validators=[validate_phone])
    entry_date = models.DateField("纳入特困供养日期")
    exit_date = models.DateField(
        "退出特困供养日期", null=True, blank=True, editable=False, help_text="由审定的退出记录写入；当日起不再供养"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        verbose_name = "特困人员"
        verbose_name_plural = "特困人员"
        ordering = ["town__sort_order", "village__name", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                name="recipient_guardian_when_no_capacity",
                condition=~Q(civil_capacity="none") | ~Q(guardian_name=""),
                violation_error_message="无民事行为能力的特困人员必须登记监护人。",
            ),
            models.CheckConstraint(
                name="recipient_exit_after_entry",
                condition=Q(exit_date__isnull=True) | Q(exit_date__gte=models.F("entry_date")),
                violation_error_message="退出日期不能早于纳入日期。",
            ),
        ]
        indexes = [models.Index(fields=["town", "village"], name="recipient_town_village")]

    def __str__(self):
        return self.name

    @property
    def needs_guardian(self):
        return self.civil_capacity == CivilCapacity.NONE

    @property
    def support_window(self):
        """(first, last) days in support, inclusive; last is None while no exit is approved."""
        return support_window(self.entry_date, self.exit_date)

    def in_support_on(self, day):
        return self.entry_date <= day and (self.exit_date is None or day < self.exit_date)


def in_support_q(first, last, prefix=""):
    """The condition "in support some day of [first, last]", for this model or through a relation (`prefix`,
    e.g. "recipient__"), so queries on other models join instead of nesting a subquery."""
    return Q(**{f"{prefix}entry_date__lte": last}) & (
        Q(**{f"{prefix}exit_date__isnull": True}) | Q(**{f"{prefix}exit_date__gt": first})
    )


def support_window(entry_date, exit_date):
    """The days in support: from the entry date up to the day before the exit date (the exit date is the
    first day out of support; for a death it is the day after the death, so the day of death is in)."""
    return entry_date, (exit_date - datetime.timedelta(days=1)) if exit_date else None


def support_exit_date(reason, occurred_on):
    """The exit date (the first day out of support, so the last day paid is the day before) of an exit whose
    event (a death, a move, an income over the line...) happened on `occurred_on`.

    - A death: the day after the death, so the day of death is paid (died 11 February: exit date 12 February,
      11 of February's 29 days in 2024 paid).
    - Any other exit: `occurred_on` itself, paid by day up to the day before (default); or, where the county
      sets SUPPORT_EXIT_PAID_TO_MONTH_END (特困人员认定办法: support stops from the month after), the first day of
      the month after the last day in support (moved out on 15 March: exit date 1 April, March paid in full;
      out from 1 March: exit date 1 March, since February was the last month in support)."""
    if reason == ExitReason.DEATH:
        return occurred_on + datetime.timedelta(days=1)
    if getattr(settings, "SUPPORT_EXIT_PAID_TO_MONTH_END", False):
        return next_month(occurred_on - datetime.timedelta(days=1))
    return occurred_on


class AssessmentQuerySet(ScopedQuerySet):
    scope_town = "recipient__town"
    scope_served_recipient = "recipient"


class Assessment(models.Model):
    """A self-care assessment (自理能力评估) on the six indicators of 特困人员认定办法.

    Each indicator is True when the person can do it on their own. The level follows from the answers
    (see `recipients.selectors.level_from_indicators`) and is stored by the action, never typed.
    Approving it with an effective date creates the `LevelApproval` that billing uses.
    """

    INDICATORS = (
        ("can_eat", "自主吃饭"),
        ("can_dress", "自主穿衣"),
        ("can_transfer", "自主上下床"),
        ("can_toilet", "自主如厕"),
        ("can_walk_indoors", "室内自主行走"),
        ("can_bathe", "自主洗澡"),
    )

    recipient = models.ForeignKey(
        Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="assessments"
    )
    assessed_on = models.DateField("评估日期")
    reported_on = models.DateField("镇（街道）报告日期", null=True, blank=True)
    can_eat = models.BooleanField("自主吃饭")
    can_dress = models.BooleanField("自主穿衣")
    can_transfer = models.BooleanField("自主上下床")
    can_toilet = models.BooleanField("自主如厕")
    can_walk_indoors = models.BooleanField("室内自主行走")
    can_bathe = models.BooleanField("自主洗澡")
    level = models.CharField("自理能力等级", max_length=16, choices=CareLevel.choices, editable=False)
    note = models.TextField("说明", blank=True)
    status = models.CharField("状态", max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    effective_date = models.DateField("生效日期", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审定人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("审定时间", null=True, blank=True)
    decision_reason = models.CharField("审定意见", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = "自理能力评估"
        verbose_name_plural = "自理能力评估"
        ordering = ["-assessed_on", "-pk"]

    def __str__(self):
        return f"{self.recipient} {self.assessed_on} {self.get_level_display()}"

    def indicator_answers(self):
        return [getattr(self, field) for field, _ in self.INDICATORS]


class LevelSource(models.TextChoices):
    ASSESSMENT = "assessment", "评估审定"
    ROSTER = "roster", "月度名单导入"


class LevelApprovalQuerySet(ScopedQuerySet):
    scope_town = "recipient__town"
    scope_served_recipient = "recipient"


class LevelApproval(models.Model):
    """An approved care level with its effective date. Only these count: the level on a day is the
    latest approval whose effective date is on or before that day."""

    recipient = models.ForeignKey(
        Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="level_approvals"
    )
    level = models.CharField("自理能力等级", max_length=16, choices=CareLevel.choices)
    effective_date = models.DateField("生效日期")
    source = models.CharField("来源", max_length=16, choices=LevelSource.choices)
    assessment = models.OneToOneField(
        Assessment, verbose_name="评估", on_delete=models.PROTECT, null=True, blank=True, related_name="approval"
    )
    roster = models.ForeignKey(
        "MonthlyRoster", verbose_name="月度名单", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审定人", on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField("审定时间", auto_now_add=True)

    objects = LevelApprovalQuerySet.as_manager()

    class Meta:
        verbose_name = "等级审定记录"
        verbose_name_plural = "等级审定记录"
        ordering = ["recipient", "-effective_date", "-pk"]
        indexes = [models.Index(fields=["recipient", "effective_date"], name="levelapproval_recipient_day")]

    def __str__(self):
        return f"{self.recipient} {self.get_level_display()} 自{self.effective_date}"


class ExitReason(models.TextChoices):
    DEATH = "death", "死亡"
    INCOME = "income", "收入或财产超标"
    MOVED = "moved", "户籍迁出本县"
    INSTITUTION = "institution", "转为集中供养"
    SUPPORTER = "supporter", "有了赡养、抚养、扶养能力的人"
    OTHER = "other", "其他"


class SupportExitQuerySet(ScopedQuerySet):
    scope_town = "recipient__town"
    scope_served_recipient = "recipient"


class SupportExit(models.Model):
    """Exit from support (退出特困供养). Once approved, support and service end on the effective date."""

    recipient = models.ForeignKey(Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="exits")
    reason = models.CharField("退出原因", max_length=16, choices=ExitReason.choices)
    detail = models.CharField("情况说明", max_length=200, blank=True)
    reported_on = models.DateField("报告日期")
    occurred_on = models.DateField(
        "死亡或退出日期", null=True, blank=True, help_text="死亡日期，或其他退出情形发生的日期"
    )
    effective_date = models.DateField("退出生效日期", help_text="停止供养的第一天（死亡的，为死亡次日）")
    status = models.CharField("状态", max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    roster = models.ForeignKey(
        "MonthlyRoster", verbose_name="月度名单", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审定人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("审定时间", null=True, blank=True)
    decision_reason = models.CharField("审定意见", max_length=200, blank=True)

    objects = SupportExitQuerySet.as_manager()

    class Meta:
        verbose_name = "退出供养"
        verbose_name_plural = "退出供养"
        ordering = ["-effective_date", "-pk"]

    def __str__(self):
        return f"{self.recipient} {self.get_reason_display()} {self.effective_date}"


class RosterStatus(models.TextChoices):
    CHECKING = "checking", "检查中"
    FAILED = "failed", "有错误，未导入"
    PREVIEW = "preview", "待确认"
    APPLYING = "applying", "导入中"
    APPLIED = "applied", "已导入"
    SUPERSEDED = "superseded", "已被重新导入替换"
    DISCARDED = "discarded", "已放弃"


class MonthlyRosterQuerySet(ScopedQuerySet):
    pass  # bureau only


class MonthlyRoster(models.Model):
    """The month's recipient list (名单), imported from the provincial system's Excel export.

    An upload is first a preview (its rows and its diff against last month); applying it writes the
    registry in one transaction.

    The uploaded file and its checked rows hold full ID numbers, phones and addresses: both are stored
    encrypted, and only while the import needs them. The file is dropped once checked, the rows once applied
    or discarded; uploads never applied are deleted after ROSTER_RETENTION_DAYS (`roster_purge_expired`).
    """

    month = models.DateField("月份", help_text="该月第一天")
    status = models.CharField("状态", max_length=16, choices=RosterStatus.choices, default=RosterStatus.PREVIEW)
    file_name = models.CharField("文件名", max_length=200)
    file_sha256 = models.CharField("文件摘要", max_length=64)
    content = EncryptedBinaryField("上传文件", null=True, editable=False)
    errors = models.JSONField("错误清单", default=list, blank=True)
    error_message = models.CharField("错误说明", max_length=300, blank=True)
    rows = EncryptedJSONField("名单行", default=list)
    diff = models.JSONField("与上月对比", default=dict)
    created_villages = models.JSONField("新建村（居）", default=list)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    applied_at = models.DateTimeField("导入时间", null=True, blank=True)

    objects = MonthlyRosterQuerySet.as_manager()

    class Meta:
        verbose_name = "月度名单"
        verbose_name_plural = "月度名单"
        ordering = ["-month", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["month"], condition=Q(status="applied"), name="roster_one_applied_per_month"
            )
        ]

    def __str__(self):
        return f"{self.month:%Y年%m月} 名单（{self.get_status_display()}）"


class RosterEntry(models.Model):
    """A recipient on an applied month's roster: what the list said for that month."""

    roster = models.ForeignKey(MonthlyRoster, verbose_name="月度名单", on_delete=models.CASCADE, related_name="entries")
    recipient = models.ForeignKey(
        Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="roster_entries"
    )
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Village, verbose_name="村（居）委会", on_delete=models.PROTECT, related_name="+")
    level = models.CharField("自理能力等级", max_length=16, choices=CareLevel.choices)
    exit_date = models.DateField("退出日期", null=True, blank=True)

    class Meta:
        verbose_name = "名单条目"
        verbose_name_plural = "名单条目"
        constraints = [models.UniqueConstraint(fields=["roster", "recipient"], name="rosterentry_unique_recipient")]

    def __str__(self):
        return f"{self.roster} {self.recipient}"

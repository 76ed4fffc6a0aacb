"""Service visits (上门服务记录), their verification, the county service standard, plans and corrections."""

import uuid

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from contracts.models import Agreement, Caregiver, Provider
from recipients.models import Recipient, Town
from shenxian_care.scoping import ScopedQuerySet, actor_role


class ServiceItem(models.TextChoices):
    """The service catalogue of the county plan §四(二)."""

    DAILY_CLEANING = "daily_cleaning", "日常清洁"
    PERSONAL_HYGIENE = "personal_hygiene", "个人助洁"
    DAILY_CARE = "daily_care", "生活照料"
    WALKING_AID = "walking_aid", "助行服务"
    MEDICAL_ESCORT = "medical_escort", "就医陪护"
    EMERGENCY_RESCUE = "emergency_rescue", "紧急救援"
    EMOTIONAL_SUPPORT = "emotional_support", "精神慰藉"
    SPECIALISED = "specialised", "专业化/个性化服务"


class VisitKind(models.TextChoices):
    REGULAR = "regular", "日常上门服务"
    EMERGENCY = "emergency", "紧急救援"


class VisitStatus(models.TextChoices):
    VERIFIED = "verified", "核验通过"
    EXCEPTION = "exception", "异常待审核"
    ACCEPTED = "accepted", "异常已认可"
    REJECTED = "rejected", "异常不予认可"


class ExceptionReason(models.TextChoices):
    NO_AGREEMENT = "no_agreement", "当日无已签订的协议或不在供养期内"
    WRONG_PROVIDER = "wrong_provider", "照料护理人不属于协议服务机构"
    NOT_ASSIGNED = "not_assigned", "非协议指定的照料护理人"
    NO_POSITION = "no_position", "签到未取得定位"
    HOME_UNLOCATED = "home_unlocated", "住址未登记坐标"
    TOO_FAR = "too_far", "签到位置超出规定范围"
    TOO_SHORT = "too_short", "服务时长不足"
    OVERLAP = "overlap", "与本人其他服务时间重叠"
    END_BEFORE_START = "end_before_start", "结束时间早于开始时间"
    IN_FUTURE = "in_future", "服务时间晚于当前时间"
    LOGGED_LATE = "logged_late", "补录超过时限"
    CONFIRMATION_FAILED = "confirmation_failed", "服务对象确认码多次输错"


class ConfirmationMode(models.TextChoices):
    NONE = "none", "不要求确认"
    SIGNATURE = "signature", "服务对象或监护人手写签名"
    CODE = "code", "服务对象确认码卡（一次性确认码）"


class ServiceStandardQuerySet(ScopedQuerySet):
    def for_actor(self, user):
        # The standard is public to every signed-in role: everyone works to it.
        return self if actor_role(user) is not None else self.none()  # a login with no role: nothing


class ServiceStandard(models.Model):
    """The county service standard (服务标准), in force from `effective_month` until the next row.

    The plan leaves these figures to the bureau; the defaults are the placeholders of domain.md.
    """

    effective_month = models.DateField("生效月份", unique=True, help_text="该月第一天")
    visits_self_care = models.PositiveSmallIntegerField("自理：每月最少上门次数", default=4)
    visits_partial = models.PositiveSmallIntegerField("半失能：每月最少上门次数", default=8)
    visits_full = models.PositiveSmallIntegerField("失能：每月最少上门次数", default=16)
    minimum_minutes = models.PositiveSmallIntegerField("每次最少服务时长（分钟）", default=30)
    radius_m = models.PositiveIntegerField("签到范围（米）", default=300)
    late_logging_hours = models.PositiveIntegerField(
        "补录时限（小时）", default=72, help_text="服务结束后超过此时限才上传的记录标为异常"
    )
    plan_grace_minutes = models.PositiveIntegerField(
        "计划上门迟到提醒（分钟）", default=120, help_text="计划时间过后仍未签到即提醒"
    )
    overdue_days = models.PositiveSmallIntegerField("连续未上门提醒天数", default=10)
    confirmation_mode = models.CharField(
        "服务对象确认方式", max_length=16, choices=ConfirmationMode.choices, default=ConfirmationMode.NONE
    )
    note = models.CharField("依据或说明", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ServiceStandardQuerySet.as_manager()

    class Meta:
        verbose_name = "服务标准"
        verbose_name_plural = "服务标准"
        ordering = ["-effective_month"]
        constraints = [
            models.CheckConstraint(
                name="servicestandard_month_start",
                condition=Q(effective_month__day=1),
                violation_error_message="生效月份必须是该月第一天。",
            ),
            models.CheckConstraint(
                name="servicestandard_positive",
                condition=Q(minimum_minutes__gt=0) & Q(radius_m__gt=0) & Q(late_logging_hours__gt=0),
                violation_error_message="时长、范围和补录时限必须大于0。",
            ),
        ]

    def __str__(self):
        return f"{self.effective_month:%Y年%m月}起 {self.visits_self_care}/{self.visits_partial}/{self.visits_full}次"

    def visits_for(self, level):
        return {"self_care": self.visits_self_care, "partial": self.visits_partial, "full": self.visits_full}.get(
            level, 0
        )


class GpsRuleStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"
    REVOKED = "revoked", "已撤销"


class RecipientGpsRuleQuerySet(ScopedQuerySet):
    scope_town = "recipient__town"
    scope_served_recipient = "recipient"


class RecipientGpsRule(models.Model):
    """A recipient's own check-in rule: no usable GPS at home (exempt) or a wider radius.

    Only an approved rule applies; the latest approved one wins over the county radius.
    """

    recipient = models.ForeignKey(
        Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="gps_rules"
    )
    gps_exempt = models.BooleanField("免定位核验", default=False)
    radius_m = models.PositiveIntegerField("特定签到范围（米）", null=True, blank=True)
    reason = models.CharField("原因", max_length=200)
    status = models.CharField("状态", max_length=16, choices=GpsRuleStatus.choices, default=GpsRuleStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=200, blank=True)

    objects = RecipientGpsRuleQuerySet.as_manager()

    class Meta:
        verbose_name = "定位特别设置"
        verbose_name_plural = "定位特别设置"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="gpsrule_exempt_or_radius",
                condition=Q(gps_exempt=True) | Q(radius_m__gt=0),
                violation_error_message="请选择免定位核验，或填写特定签到范围。",
            ),
        ]

    def __str__(self):
        what = "免定位核验" if self.gps_exempt else f"签到范围{self.radius_m}米"
        return f"{self.recipient} {what}（{self.get_status_display()}）"


class VisitQuerySet(ScopedQuerySet):
    scope_town = "town"
    scope_provider = "provider"
    scope_caregiver = "caregiver"

    def with_reason(self, reason):
        """The visits flagged for `reason` (one of ExceptionReason's codes) among others."""
        if connection.features.supports_json_field_contains:
            return self.filter(exception_reasons__contains=[reason])
        # SQLite has no JSON containment: the code, quoted, in the list's JSON text (no code is part of another's)
        return self.filter(exception_reasons__icontains=f'"{reason}"')

    def counted(self):
        """Visits that count toward the standard: finished and not rejected."""
        return self.filter(ended_at__isnull=False).exclude(status=VisitStatus.REJECTED)

    def in_progress(self):
        return self.filter(ended_at__isnull=True, kind=VisitKind.REGULAR).exclude(status=VisitStatus.REJECTED)


class Visit(models.Model):
    """One home visit, with the six elements of electronic visit verification (service items, recipient,
    date, location, caregiver, start and end time). `client_id` is made by the phone, so a retry on a
    weak network finds the same visit instead of making a second one."""

    client_id = models.UUIDField("客户端记录号", unique=True, default=uuid.uuid4)
    kind = models.CharField("类型", max_length=16, choices=VisitKind.choices, default=VisitKind.REGULAR)
    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="visits")
    caregiver = models.ForeignKey(Caregiver, verbose_name="照料护理人", on_delete=models.PROTECT, related_name="visits")
    recipient = models.ForeignKey(Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="visits")
    agreement = models.ForeignKey(
        Agreement, verbose_name="四方协议", on_delete=models.PROTECT, null=True, blank=True, related_name="visits"
    )
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="visits")
    visit_date = models.DateField("服务日期", help_text="签到时间所在日（北京时间）")
    started_at = models.DateTimeField("签到时间")
    ended_at = models.DateTimeField("签退时间", null=True, blank=True)
    duration_minutes = models.IntegerField("服务时长（分钟）", null=True, blank=True, editable=False)
    checkin_latitude = models.DecimalField("签到纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    checkin_longitude = models.DecimalField("签到经度", max_digits=9, decimal_places=6, null=True, blank=True)
    checkin_accuracy_m = models.PositiveIntegerField("定位精度（米）", null=True, blank=True)
    checkin_distance_m = models.PositiveIntegerField("距登记住址（米）", null=True, blank=True, editable=False)
    checkout_latitude = models.DecimalField("签退纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    checkout_longitude = models.DecimalField("签退经度", max_digits=9, decimal_places=6, null=True, blank=True)
    service_items = models.JSONField("服务项目", default=list, blank=True)
    note = models.TextField("服务记录", blank=True)
    emergency_what = models.TextField("紧急情况经过", blank=True)
    emergency_called = models.CharField("已联系（120、家属、村委会等）", max_length=200, blank=True)
    status = models.CharField("核验状态", max_length=16, choices=VisitStatus.choices, default=VisitStatus.VERIFIED)
    exception_reasons = models.JSONField("异常原因", default=list, blank=True)
    received_at = models.DateTimeField("平台收到签到时间")
    checkout_received_at = models.DateTimeField("平台收到签退时间", null=True, blank=True)
    # Digests of what the phone sent (its values as normalised): a resend of the same client id is compared with
    # them, not with the record, which corrections may since have changed. Empty for visits from before.
    checkin_digest = models.CharField("签到报文摘要", max_length=64, blank=True, default="", editable=False)
    checkout_digest = models.CharField("签退报文摘要", max_length=64, blank=True, default="", editable=False)
    synced_late = models.BooleanField("离线补传", default=False)
    confirmed_at = models.DateTimeField("服务对象确认时间", null=True, blank=True)
    confirmation_method = models.CharField(
        "确认方式", max_length=16, choices=ConfirmationMode.choices, default=ConfirmationMode.NONE
    )
    confirmation_signature = models.ImageField("确认签名", upload_to="visits/signatures/%Y/%m/", blank=True)
    confirmation_failures = models.PositiveSmallIntegerField("确认码输错次数", default=0, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_reason = models.CharField("审核意见", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = "上门服务记录"
        verbose_name_plural = "上门服务记录"
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["visit_date", "town"], name="visit_day_town"),
            # The lists' order (newest first: services.selectors.visit_list, the admin): a page is read from this
            # index, not sorted from the newest day's visits (20,000 a day at city scale).
            models.Index(fields=["visit_date", "started_at", "id"], name="visit_day_start"),
            models.Index(fields=["provider", "visit_date"], name="visit_provider_day"),
            models.Index(fields=["recipient", "visit_date"], name="visit_recipient_day"),
            models.Index(fields=["caregiver", "started_at"], name="visit_caregiver_start"),
            # the visits open now (the dashboard's in progress): a small index of the visits not yet checked out
            models.Index(fields=["started_at"], condition=Q(ended_at__isnull=True), name="visit_open_start"),
            # (status, day) reads; the dashboard's newest exceptions in its order, read off the index, not sorted
            models.Index(fields=["status", "visit_date", "started_at", "id"], name="visit_status_day_start"),
        ]
        constraints = [
            models.CheckConstraint(
                name="visit_status_valid",
                condition=Q(status__in=["verified", "exception", "accepted", "rejected"]),
            ),
            models.CheckConstraint(
                name="visit_verified_has_no_reasons",
                condition=~Q(status="verified") | Q(exception_reasons=[]),
                violation_error_message="核验通过的记录不能有异常原因。",
            ),
        ]

    def __str__(self):
        return f"{self.recipient} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M} {self.caregiver}"

    @property
    def in_progress(self):
        return self.ended_at is None and self.kind == VisitKind.REGULAR

    def reason_labels(self):
        labels = dict(ExceptionReason.choices)
        return [labels.get(code, code) for code in self.exception_reasons]

    def item_labels(self):
        labels = dict(ServiceItem.choices)
        return [labels.get(code, code) for code in self.service_items]


class VisitPhotoQuerySet(ScopedQuerySet):
    scope_town = "visit__town"
    scope_provider = "visit__provider"
    scope_caregiver = "visit__caregiver"


class VisitPhoto(models.Model):
    MAX_PER_VISIT = 3
    MAX_BYTES = 5 * 1024 * 1024
    CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")

    visit = models.ForeignKey(Visit, verbose_name="服务记录", on_delete=models.CASCADE, related_name="photos")
    client_id = models.UUIDField("客户端照片号", unique=True, default=uuid.uuid4)
    image = models.ImageField("照片", upload_to="visits/photos/%Y/%m/")
    content_type = models.CharField("类型", max_length=32)
    size_bytes = models.PositiveIntegerField("大小（字节）")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = VisitPhotoQuerySet.as_manager()

    class Meta:
        verbose_name = "服务照片"
        verbose_name_plural = "服务照片"
        ordering = ["visit", "pk"]

    def __str__(self):
        return f"{self.visit} 照片{self.pk}"


class CorrectionReason(models.TextChoices):
    FORGOT_CHECKOUT = "forgot_checkout", "忘记签退"
    DEVICE_FAULT = "device_fault", "手机故障或无信号"
    GPS_DRIFT = "gps_drift", "定位漂移"
    WRONG_ITEMS = "wrong_items", "服务项目或记录填写有误"
    OTHER = "other", "其他（须说明）"


class CorrectionStatus(models.TextChoices):
    APPLIED = "applied", "已更正"
    PENDING = "pending", "待县民政局审批"
    REJECTED = "rejected", "未批准"


class VisitCorrectionQuerySet(ScopedQuerySet):
    scope_town = "visit__town"
    scope_provider = "visit__provider"


class VisitCorrection(models.Model):
    """A provider's correction of a visit, kept for ever: who, when, why, and the values before and after.
    Times and positions change only once the bureau approves."""

    visit = models.ForeignKey(Visit, verbose_name="服务记录", on_delete=models.PROTECT, related_name="corrections")
    reason_code = models.CharField("更正原因", max_length=32, choices=CorrectionReason.choices)
    reason_note = models.CharField("说明", max_length=200, blank=True)
    before = models.JSONField("更正前")
    after = models.JSONField("更正后")
    needs_approval = models.BooleanField("须审批", default=False)
    status = models.CharField("状态", max_length=16, choices=CorrectionStatus.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="更正人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("更正时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=200, blank=True)

    objects = VisitCorrectionQuerySet.as_manager()

    class Meta:
        verbose_name = "服务记录更正"
        verbose_name_plural = "服务记录更正"
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return f"{self.visit} {self.get_reason_code_display()}（{self.get_status_display()}）"


class PlannedVisitQuerySet(ScopedQuerySet):
    scope_town = "town"
    scope_provider = "provider"
    scope_caregiver = "caregiver"


class PlannedVisit(models.Model):
    """A visit in the provider's monthly plan (月度服务计划): who visits whom on which day, and when."""

    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(Agreement, verbose_name="四方协议", on_delete=models.PROTECT, related_name="+")
    caregiver = models.ForeignKey(Caregiver, verbose_name="照料护理人", on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="+")
    day = models.DateField("计划日期")
    planned_time = models.TimeField("计划时间")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="制定人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("制定时间", auto_now_add=True)

    objects = PlannedVisitQuerySet.as_manager()

    class Meta:
        verbose_name = "月度服务计划"
        verbose_name_plural = "月度服务计划"
        ordering = ["day", "planned_time"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "day"], name="plannedvisit_one_per_agreement_day"),
        ]
        indexes = [models.Index(fields=["day", "provider"], name="plannedvisit_day_provider")]

    def __str__(self):
        return f"{self.day} {self.planned_time:%H:%M} {self.caregiver}→{self.recipient}"


class FlagKind(models.TextChoices):
    RECIPIENT_OVERDUE = "recipient_overdue", "服务对象超期未上门"
    CAREGIVER_EXCEPTIONS = "caregiver_exceptions", "照料护理人有异常记录"


class VisitFlagQuerySet(ScopedQuerySet):
    scope_town = "town"
    scope_provider = "provider"


class VisitFlag(models.Model):
    """What the daily check (`services.tasks.visit_flag_overdue_task`) found on `day`; shown on the dashboard."""

    day = models.DateField("检查日期")
    kind = models.CharField("类型", max_length=32, choices=FlagKind.choices)
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, null=True, related_name="+")
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, null=True, related_name="+"
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name="特困人员", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    caregiver = models.ForeignKey(
        Caregiver, verbose_name="照料护理人", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    days_since_visit = models.PositiveIntegerField("距上次上门天数", null=True, blank=True)
    exception_count = models.PositiveIntegerField("异常记录数", null=True, blank=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    objects = VisitFlagQuerySet.as_manager()

    class Meta:
        verbose_name = "上门服务预警"
        verbose_name_plural = "上门服务预警"
        ordering = ["-day", "kind", "pk"]
        indexes = [
            # the dashboard's overdue list: the latest day's flags, longest without a visit first (never-visited,
            # NULL, first: PostgreSQL's order for DESC), read in this order until 20 are still overdue
            models.Index(fields=["day", "kind", "-days_since_visit", "id"], name="visitflag_day_kind_overdue"),
            # and its caregivers with exceptions, most exceptions first, read in this order (not a sort of every
            # caregiver flagged that day)
            models.Index(fields=["day", "kind", "-exception_count", "id"], name="visitflag_day_kind_exceptions"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "kind", "recipient"],
                condition=Q(recipient__isnull=False),
                name="visitflag_unique_recipient_day",
            ),
            models.UniqueConstraint(
                fields=["day", "kind", "caregiver"],
                condition=Q(kind="caregiver_exceptions"),
                name="visitflag_unique_caregiver_day",
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.get_kind_display()}"


class ConfirmationCardQuerySet(ScopedQuerySet):
    # The town of the recipient issues and prints the card; providers and caregivers never see it.
    scope_town = "recipient__town"


class ConfirmationCard(models.Model):
    """A recipient's printed card of one-time confirmation codes (确认码卡), issued by the town (or the bureau) and
    kept at the recipient's home. In code mode a visit is confirmed by one unused code from it, read out by the
    recipient or guardian: something only the recipient's side holds. The codes are random and stored only as
    keyed digests (`ConfirmationCode`); they are shown once, on the page printed when the card is issued. A new
    card (the old one lost or used up) revokes the one before."""

    SIZE_DEFAULT = 30
    SIZE_MIN = 10
    SIZE_MAX = 60

    recipient = models.ForeignKey(
        Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="confirmation_cards"
    )
    number = models.PositiveIntegerField("卡号", help_text="该服务对象的第几张卡，印在卡上")
    size = models.PositiveSmallIntegerField("确认码个数")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发卡人", on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("发卡时间", auto_now_add=True)
    revoked_at = models.DateTimeField("作废时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="作废人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoke_reason = models.CharField("作废原因", max_length=100, blank=True)

    objects = ConfirmationCardQuerySet.as_manager()

    class Meta:
        verbose_name = "确认码卡"
        verbose_name_plural = "确认码卡"
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient"],
                condition=Q(revoked_at__isnull=True),
                name="confirmationcard_one_in_use_per_recipient",
            ),
            models.UniqueConstraint(fields=["recipient", "number"], name="confirmationcard_unique_number"),
        ]

    def __str__(self):
        return f"{self.recipient} 第{self.number}号确认码卡"


class ConfirmationCode(models.Model):
    """One code of a card: its keyed digest only (the code cannot be read back), used once."""

    card = models.ForeignKey(ConfirmationCard, verbose_name="确认码卡", on_delete=models.CASCADE, related_name="codes")
    position = models.PositiveSmallIntegerField("序号")
    digest = models.CharField("确认码摘要", max_length=64)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    visit = models.OneToOneField(
        Visit,
        verbose_name="确认的服务记录",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="confirmation_code",
    )

    class Meta:
        verbose_name = "确认码"
        verbose_name_plural = "确认码"
        ordering = ["card", "position"]
        constraints = [
            models.UniqueConstraint(fields=["card", "position"], name="confirmationcode_unique_position"),
            models.UniqueConstraint(fields=["card", "digest"], name="confirmationcode_unique_digest"),
        ]

    def __str__(self):
        return f"{self.card} 第{self.position}码"

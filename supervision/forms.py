"""Portal forms. They check shapes only; every rule is in the actions."""

import datetime

from django import forms

from contracts.models import Caregiver, DeductionRule, Provider
from recipients.models import CareLevel, Recipient, Town
from shenxian_care.exceptions import ApplicationError
from shenxian_care.filters import IdField

from .actions.reviews import TerminationGrounds
from .models import (
    ComplaintChannel,
    ComplaintPriority,
    ComplaintRoute,
    ProblemCategory,
    ReviewDecision,
    SpotCheckMethod,
    SpotCheckResult,
)
from .sampling import PHONE_SCRIPT
from .scoring import check_item_score

DATE = forms.DateInput(attrs={"type": "date"})


class PortalForm(forms.Form):
    """Labels without Django's ASCII colon: the pages put each label above its field, as Chinese forms do."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RectificationSourceQuery(PortalForm):
    """`?spot_check=` / `?serious_problem=` / `?complaint=`: the record a new notice is issued from."""

    spot_check = IdField(required=False, label="抽查记录")
    serious_problem = IdField(required=False, label="严重服务质量问题")
    complaint = IdField(required=False, label="投诉")


class SpotCheckQuery(PortalForm):
    """`?draw=` (the sample being checked) and `?recipient=` (the person, chosen beforehand)."""

    draw = IdField(required=False, label="抽样")
    recipient = IdField(required=False, label="特困人员")


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month"})

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        try:
            return datetime.datetime.strptime(value[:7], "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError("月份格式应为 YYYY-MM，例如 2026-10。") from None


class MonthForm(PortalForm):
    month = MonthField(label="月份", required=False)


class EvaluationStartForm(PortalForm):
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.none())
    month = MonthField(label="考评月份")

    def __init__(self, *args, providers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers if providers is not None else Provider.objects.none()


class EvaluationForm(PortalForm):
    """One score field (and a note) per item of the evaluation's sheet, plus remarks per recipient."""

    summary = forms.CharField(label="总体评价", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, evaluation, recipients=(), points=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(evaluation.sheet.items.all())
        self.points = points or {}
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.DecimalField(
                label=f"{item.code} {item.title}（满分{item.max_score}）",
                min_value=0,
                max_value=item.max_score,
                decimal_places=2,
                required=False,
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(label="扣分说明", max_length=200, required=False)
        self.recipients = list(recipients)
        for recipient in self.recipients:
            self.fields[f"remark_{recipient.pk}"] = forms.CharField(
                label=recipient.name, max_length=300, required=False
            )

    def clean(self):
        data = super().clean()
        for item in self.items:
            score = data.get(f"item_{item.pk}")
            if score is None or self.has_error(f"item_{item.pk}") or self.has_error(f"note_{item.pk}"):
                continue
            try:
                check_item_score(item, score, data.get(f"note_{item.pk}", ""))
            except ApplicationError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data

    def item_rows(self):
        return [
            (item, self[f"item_{item.pk}"], self[f"note_{item.pk}"], self.points.get(item.pk)) for item in self.items
        ]

    def remark_rows(self):
        return [(r, self[f"remark_{r.pk}"]) for r in self.recipients]

    def scores(self):
        data = self.cleaned_data
        return {item.pk: (data.get(f"item_{item.pk}"), data.get(f"note_{item.pk}", "")) for item in self.items}

    def remarks(self):
        return [(r.pk, self.cleaned_data.get(f"remark_{r.pk}", "")) for r in self.recipients]


class ReasonForm(PortalForm):
    reason = forms.CharField(label="理由", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    widget = MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png", "capture": "environment"})

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultiplePhotoField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ProblemReportForm(PortalForm):
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.none())
    town = forms.ModelChoiceField(label="镇（街道）", queryset=Town.objects.all(), required=False)
    category = forms.ChoiceField(label="问题类别", choices=ProblemCategory.choices)
    occurred_on = forms.DateField(label="发生日期", widget=DATE)
    recipient = forms.ModelChoiceField(
        label="涉及特困人员（可不填）", queryset=Recipient.objects.none(), required=False
    )
    description = forms.CharField(label="问题及证据说明", widget=forms.Textarea(attrs={"rows": 5}))
    photos = MultiplePhotoField(label="现场照片（JPG/PNG，每张不超过5MB，最多6张）", required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Provider.objects.for_actor(actor)
        self.fields["recipient"].queryset = Recipient.objects.for_actor(actor).select_related("town")
        if actor.town_id:
            del self.fields["town"]


class ProblemVerifyForm(PortalForm):
    rule = forms.ModelChoiceField(label="适用扣款标准", queryset=DeductionRule.objects.none())
    amount = forms.DecimalField(
        label="扣款金额（元，留空按标准）", required=False, min_value=0, max_digits=12, decimal_places=2
    )
    amount_changed_reason = forms.CharField(label="调整金额理由", max_length=300, required=False)
    reason = forms.CharField(label="查证意见", max_length=300)
    verified_on = forms.DateField(label="查证日期", widget=DATE, required=False)
    rectification_deadline = forms.DateField(label="整改期限（填写则同时下发整改通知）", widget=DATE, required=False)

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = DeductionRule.objects.filter(contract_id=report.contract_id)


class RectificationIssueForm(PortalForm):
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.all())
    town = forms.ModelChoiceField(label="镇（街道）", queryset=Town.objects.all(), required=False)
    problem = forms.CharField(label="存在问题及整改要求", widget=forms.Textarea(attrs={"rows": 4}))
    deadline = forms.DateField(label="整改期限", widget=DATE)


class AnswerForm(PortalForm):
    answer = forms.CharField(label="答复", widget=forms.Textarea(attrs={"rows": 4}))


class SendBackForm(ReasonForm):
    deadline = forms.DateField(label="新的整改期限（可不填）", widget=DATE, required=False)


class ComplaintForm(PortalForm):
    channel = forms.ChoiceField(label="渠道", choices=ComplaintChannel.choices)
    priority = forms.ChoiceField(label="优先级", choices=ComplaintPriority.choices)
    received_on = forms.DateField(label="受理日期", widget=DATE)
    complainant_name = forms.CharField(label="投诉人", max_length=32, required=False)
    complainant_phone = forms.CharField(label="联系电话", max_length=20, required=False)
    town = forms.ModelChoiceField(label="镇（街道）", queryset=Town.objects.all())
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.all(), required=False)
    content = forms.CharField(label="投诉内容", widget=forms.Textarea(attrs={"rows": 4}))
    route_to = forms.ChoiceField(label="转办至", choices=ComplaintRoute.choices)
    due_date = forms.DateField(label="办理期限（留空按优先级）", widget=DATE, required=False)


class ComplaintCloseForm(PortalForm):
    founded = forms.TypedChoiceField(
        label="核实结论", choices=[("1", "属实"), ("0", "不属实")], coerce=lambda v: v == "1", widget=forms.RadioSelect
    )
    note = forms.CharField(label="办结意见", max_length=300, required=False)
    rectification_deadline = forms.DateField(label="下发整改通知，期限至（可不填）", widget=DATE, required=False)
    raise_serious_problem = forms.BooleanField(label="同时登记严重服务质量问题，待查证", required=False)


class DrawForm(PortalForm):
    day = forms.DateField(label="抽样基准日", widget=DATE, required=False)
    town = forms.ModelChoiceField(label="镇（街道）", queryset=Town.objects.all(), required=False)
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.all(), required=False)
    level = forms.ChoiceField(label="自理能力等级", choices=[("", "全部"), *CareLevel.choices], required=False)
    size = forms.IntegerField(label="抽样人数", min_value=1, max_value=100_000, required=False)
    percentage = forms.DecimalField(
        label="或抽样比例（%）", min_value=0, max_value=100, decimal_places=2, required=False
    )
    seed = forms.IntegerField(
        label="随机种子（复核时填写原种子）", required=False, min_value=-(2**63), max_value=2**63 - 1
    )


class SpotCheckForm(PortalForm):
    recipient = forms.ModelChoiceField(label="特困人员", queryset=Recipient.objects.none())
    method = forms.ChoiceField(label="检查方式", choices=SpotCheckMethod.choices)
    checked_on = forms.DateField(label="检查日期", widget=DATE)
    result = forms.ChoiceField(label="检查结果", choices=SpotCheckResult.choices, widget=forms.RadioSelect)
    finding = forms.CharField(label="检查情况", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, actor, recipients=None, town_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = (
            recipients if recipients is not None else Recipient.objects.for_actor(actor)
        ).select_related("town")
        if town_only:
            self.fields["method"].choices = [(SpotCheckMethod.ONSITE, SpotCheckMethod.ONSITE.label)]
        for key, question, choices in PHONE_SCRIPT:
            self.fields[f"answer_{key}"] = forms.ChoiceField(
                label=question, choices=[("", "—"), *[(c, c) for c in choices]], required=False
            )
        self.fields["answer_comment"] = forms.CharField(label="其他意见", max_length=300, required=False)

    def answers(self):
        keys = [key for key, _, _ in PHONE_SCRIPT] + ["comment"]
        return {key: self.cleaned_data.get(f"answer_{key}") for key in keys if self.cleaned_data.get(f"answer_{key}")}

    def script_fields(self):
        return [self[f"answer_{key}"] for key, _, _ in PHONE_SCRIPT] + [self["answer_comment"]]


class CrossCheckUploadForm(PortalForm):
    file = forms.FileField(label="名单文件（.xlsx：姓名、身份证号、情形、日期）")
    source = forms.CharField(label="数据来源", max_length=100, required=False, help_text="如：县公安局、殡葬管理所")


class ReviewStartForm(PortalForm):
    half = forms.ChoiceField(label="半年度", choices=[])

    def __init__(self, *args, halves=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["half"].choices = [(h, f"{h[:4]}年{'上' if h.endswith('1') else '下'}半年（{h}）") for h in halves]
        self.fields["half"].error_messages["invalid_choice"] = "请选择已结束的半年度。"


class DecideForm(PortalForm):
    decision = forms.ChoiceField(label="决定", choices=ReviewDecision.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label="决定理由", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class TakeoverForm(PortalForm):
    new_provider = forms.ModelChoiceField(label="接管服务机构", queryset=Provider.objects.none())
    takeover_date = forms.DateField(label="接管日期（原协议前一日终止）", widget=DATE)

    def __init__(self, *args, review, towns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_provider"].queryset = Provider.objects.exclude(pk=review.provider_id)
        self.towns = list(towns)
        for town in self.towns:
            self.fields[f"caregiver_{town.pk}"] = forms.ModelChoiceField(
                label=f"{town.name}的照料护理人（留空自动安排）",
                queryset=Caregiver.objects.filter(is_active=True).exclude(provider_id=review.provider_id),
                required=False,
            )

    def caregivers(self):
        return {
            town.pk: self.cleaned_data[f"caregiver_{town.pk}"]
            for town in self.towns
            if self.cleaned_data.get(f"caregiver_{town.pk}")
        }


class TerminationForm(forms.Form):
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.order_by("name"))
    grounds = forms.ChoiceField(label="终止依据", choices=TerminationGrounds.choices)
    reason = forms.CharField(label="终止理由", max_length=250, widget=forms.Textarea(attrs={"rows": 3}))

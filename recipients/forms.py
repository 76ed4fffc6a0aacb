import datetime

from django import forms

from shenxian_care.months import next_month

from .models import ApprovalStatus, Assessment, CareLevel, ExitReason, Town


class ChineseForm(forms.Form):
    """Labels without the ASCII colon Django adds (it reads oddly after Chinese text)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RecipientFilterForm(ChineseForm):
    q = forms.CharField(label="姓名或身份证号后4位", required=False, max_length=32)
    town = forms.ModelChoiceField(label="镇（街道）", queryset=Town.objects.none(), required=False)
    level = forms.ChoiceField(label="等级", choices=[("", "全部"), *CareLevel.choices], required=False)
    in_support = forms.BooleanField(label="仅在供养", required=False, initial=True)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = Town.objects.for_actor(actor)


class RosterUploadForm(ChineseForm):
    month = forms.CharField(
        label="名单月份", help_text="例：2026-10", widget=forms.TextInput(attrs={"type": "month", "required": True})
    )
    file = forms.FileField(label="名单文件（.xlsx）")

    def clean_month(self):
        value = self.cleaned_data["month"].strip()
        try:
            return datetime.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError("月份格式应为 YYYY-MM，例如 2026-10。") from None


class AssessmentForm(ChineseForm):
    assessed_on = forms.DateField(label="评估日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="情况说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field, label in Assessment.INDICATORS:
            self.fields[field] = forms.TypedChoiceField(
                label=label,
                choices=[("1", "能独立完成"), ("0", "不能独立完成")],
                coerce=lambda v: v == "1",
                widget=forms.RadioSelect,
            )

    def answers(self):
        return {field: self.cleaned_data[field] for field, _ in Assessment.INDICATORS}


class ExitReportForm(ChineseForm):
    reason = forms.ChoiceField(label="退出原因", choices=ExitReason.choices)
    occurred_on = forms.DateField(
        label="死亡或退出日期",
        help_text="死亡的填死亡日期（死亡当日仍计发，次日起停止供养）；其他情形填退出之日。",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    detail = forms.CharField(label="情况说明", max_length=200, required=False)


class FindByIdForm(ChineseForm):
    id_number = forms.CharField(label="按身份证号查找", max_length=20)


class DecisionForm(ChineseForm):
    """The bureau's decision on one reported change, or on several at once (`ids`)."""

    decision = forms.ChoiceField(
        label="审定结果", choices=[("approve", "审定通过"), ("reject", "不予审定（退回）")], widget=forms.RadioSelect
    )
    reason = forms.CharField(label="审定意见（退回时必填）", max_length=200, required=False)


class AssessmentDecisionForm(DecisionForm):
    effective = forms.ChoiceField(
        label="等级生效日期",
        choices=[("assessed_on", "评估日期"), ("next_month", "评估次月1日"), ("date", "指定日期")],
        initial="assessed_on",
        required=False,
        widget=forms.RadioSelect,
    )
    effective_date = forms.DateField(
        label="指定生效日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "approve" and data.get("effective") == "date" and not data.get("effective_date"):
            self.add_error("effective_date", "选择“指定日期”时请填写生效日期。")
        return data

    def effective_date_for(self, assessment):
        """The effective date chosen for this assessment (the same choice applies to each of a batch)."""
        choice = self.cleaned_data.get("effective") or "assessed_on"
        if choice == "date":
            return self.cleaned_data["effective_date"]
        if choice == "next_month":
            return next_month(assessment.assessed_on)
        return assessment.assessed_on


class ExitDecisionForm(DecisionForm):
    pass


# 待审定's queues: what the bureau decides
APPROVAL_KINDS = {"first": "初次评估", "change": "等级变更", "exit": "退出供养"}


class ApprovalQueueQuery(ChineseForm):
    """`?kind=` of 待审定: one kind of request, or all of them."""

    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部"), *APPROVAL_KINDS.items()])


class ReportStatusQuery(ChineseForm):
    """`?status=` of 我的报告: the town's reports in one state, or all of them."""

    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部"), *ApprovalStatus.choices])

import datetime

from django import forms
from django.utils import timezone

from recipients.models import Recipient

from .models import AgreementStatus, Caregiver, Provider


class AgreementFilterForm(forms.Form):
    status = forms.ChoiceField(label="状态", choices=[("", "全部"), *AgreementStatus.choices], required=False)
    recipient = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RecipientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.town.name}{obj.village.name}）"


class AgreementForm(forms.Form):
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.none(), required=False)
    recipient = RecipientChoiceField(label="特困人员", queryset=Recipient.objects.none())
    caregiver = forms.ModelChoiceField(label="照料护理人", queryset=Caregiver.objects.none())
    start_date = forms.DateField(label="服务开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(
        label="服务结束日期（可不填）", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    village_signatory = forms.CharField(label="村（居）委会签字人", max_length=32, required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices are what the user may see, and nothing else.
        # people in support today or later (an exit approved for a later day still leaves days to serve; the
        # agreement's start is then checked against it by `agreement_create`)
        self.fields["recipient"].queryset = (
            Recipient.objects.for_actor(actor)
            .in_support_between(timezone.localdate(), datetime.date.max)
            .select_related("town", "village")
        )
        self.fields["caregiver"].queryset = Caregiver.objects.for_actor(actor).filter(is_active=True)
        if actor.role == "provider" and not actor.is_superuser:
            del self.fields["provider"]
        else:
            self.fields["provider"].queryset = Provider.objects.for_actor(actor)
            self.fields["provider"].required = True


class AgreementSignForm(forms.Form):
    signed_on = forms.DateField(label="镇（街道）签字日期", widget=forms.DateInput(attrs={"type": "date"}))
    village_signatory = forms.CharField(label="村（居）委会签字人", max_length=32)
    village_signed_on = forms.DateField(
        label="村（居）委会签字日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="留空则同镇（街道）签字日期",
    )
    recipient_signed_on = forms.DateField(
        label="特困人员（监护人）签字日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="留空则同镇（街道）签字日期；协议自开始日期与四方最后签字日期中较晚者起生效",
    )


class CaregiverForm(forms.Form):
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.none(), required=False)
    name = forms.CharField(label="姓名", max_length=32)
    id_number = forms.CharField(label="身份证号", max_length=20)
    phone = forms.CharField(label="手机号", max_length=20)
    hired_on = forms.DateField(label="聘用日期", widget=forms.DateInput(attrs={"type": "date"}))
    bank_name = forms.CharField(label="开户银行", max_length=100, required=False)
    bank_account_number = forms.CharField(label="个人银行账号", max_length=32, required=False)
    username = forms.CharField(label="登录名（手机登录用，可不填）", max_length=150, required=False)
    password = forms.CharField(label="初始密码", required=False, widget=forms.PasswordInput, min_length=12)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        if actor.role == "provider" and not actor.is_superuser:
            del self.fields["provider"]
        else:
            self.fields["provider"].queryset = Provider.objects.for_actor(actor)
            self.fields["provider"].required = True


class CaregiverLeaveForm(forms.Form):
    left_on = forms.DateField(label="离职日期", widget=forms.DateInput(attrs={"type": "date"}))

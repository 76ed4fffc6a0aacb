import datetime
from decimal import Decimal

from django import forms


class MonthForm(forms.Form):
    month = forms.CharField(
        label="结算月份",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        help_text="例如 2024-03",
    )

    def clean_month(self):
        text = self.cleaned_data["month"].strip()
        try:
            return datetime.datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError("月份格式应为 YYYY-MM，例如 2024-03。") from None


class LineFilterForm(forms.Form):
    town = forms.IntegerField(required=False, widget=forms.HiddenInput)
    provider = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label="类型", required=False, choices=[("", "全部"), ("regular", "本月"), ("adjustment", "以前月份调整")]
    )


class PaymentRecordForm(forms.Form):
    payment = forms.IntegerField(widget=forms.HiddenInput)
    paid_on = forms.DateField(label="支付日期", widget=forms.DateInput(attrs={"type": "date"}))
    voucher_number = forms.CharField(label="凭证号", max_length=40)
    amount = forms.DecimalField(
        label="支付金额（元）",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="留空则为尚未支付的全部金额",
    )

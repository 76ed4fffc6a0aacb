import datetime

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

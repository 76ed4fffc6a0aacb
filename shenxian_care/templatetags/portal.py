"""Template filters for the portal: masking and money, each using the one helper that defines it."""

from django import template

from shenxian_care import privacy
from shenxian_care.money import format_yuan

register = template.Library()


@register.filter
def mask_id(value):
    return privacy.mask_id_number(value)


@register.filter
def mask_phone(value):
    return privacy.mask_phone(value)


@register.filter
def mask_address(value):
    return privacy.mask_address(value)


@register.filter
def mask_account(value):
    return privacy.mask_bank_account(value)


@register.filter
def yuan(value):
    return format_yuan(value)

"""Amounts in Chinese capitals (大写) as the 拨付审批表 prints them, checked against hand-written forms."""

from decimal import Decimal

import pytest

from shenxian_care.money import chinese_capital


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("0.00", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("189.00", "壹佰捌拾玖元整"),
        ("313.00", "叁佰壹拾叁元整"),
        ("626.00", "陆佰贰拾陆元整"),
        ("189.31", "壹佰捌拾玖元叁角壹分"),
        ("100.07", "壹佰元零柒分"),
        ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
        ("10005.00", "壹万零伍元整"),
        ("105000.00", "壹拾万伍仟元整"),
        ("1010000.00", "壹佰零壹万元整"),
        ("20000001.00", "贰仟万零壹元整"),
        ("12345678.90", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角整"),
        ("300000000.00", "叁亿元整"),
    ],
)
def test_amount_in_capitals(amount, capitals):
    assert chinese_capital(Decimal(amount)) == capitals


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="负数"):
        chinese_capital(Decimal("-0.01"))

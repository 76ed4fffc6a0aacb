from decimal import Decimal

from shenxian_care.excel import safe_row, safe_text


def test_formula_like_text_is_escaped_and_numbers_are_untouched():
    assert safe_text('=HYPERLINK("http://x","点我")') == '\'=HYPERLINK("http://x","点我")'
    assert safe_text("+86 138") == "'+86 138"
    assert safe_text("@SUM(A1)") == "'@SUM(A1)"
    assert safe_text("王秀英") == "王秀英"
    assert safe_row(["-1", Decimal("-1.00"), 3, None]) == ["'-1", Decimal("-1.00"), 3, None]

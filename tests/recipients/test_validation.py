import datetime

import pytest
from django.core.exceptions import ValidationError

from shenxian_care.validators import (
    credit_check_char,
    id_check_char,
    normalize_id_number,
    parse_id_number,
    validate_credit_code,
)

# A number from GB 11643's own worked example.
GOOD_ID = "11010519491231002X"


def test_good_id_number_gives_birth_date_and_sex():
    number, birth, sex = parse_id_number(GOOD_ID)
    assert number == GOOD_ID
    assert birth == datetime.date(1949, 12, 31)
    assert sex == "F"  # 17th digit 2 is even


def test_lower_case_x_and_spaces_are_normalised():
    assert parse_id_number(" 110105 19491231 002x ")[0] == GOOD_ID


def test_fifteen_digit_number_is_upgraded_to_eighteen():
    upgraded = normalize_id_number("110105491231002")
    assert upgraded == GOOD_ID


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "check_digit"),  # bad check digit
        ("11010519491231002", "length"),  # 17 characters
        ("1101051949123100211", "length"),
        ("110105194902300021", "birth_date"),  # 30 February
        ("11010520991231002X", "birth_date"),  # born in the future
        ("11010519491231A02X", "format"),
    ],
)
def test_bad_id_numbers_are_refused_with_a_reason(value, code):
    with pytest.raises(ValidationError) as exc:
        parse_id_number(value)
    assert exc.value.code == code
    assert "身份证号" in exc.value.messages[0]


def test_check_char_matches_the_standard():
    assert id_check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("code", "check"),
    [
        ("91110000600037341L", "L"),  # the example in python-stdnum's cn.uscc documentation
        ("91350100M000100Y43", "3"),  # the example code widely used with GB 32100-2015
    ],
)
def test_credit_code_with_valid_check_character(code, check):
    """Published codes with their published check characters (not computed here by the function under test)."""
    validate_credit_code(code)
    assert credit_check_char(code[:17]) == check
    # any other check character is refused
    wrong = "0" if check != "0" else "1"
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code[:17] + wrong)
    assert exc.value.code == "check_digit"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91371522MA3C4PR10", "length"),
        ("91371522MA3C4PR1OX", "format"),  # O is not in the alphabet
        ("913715220000000001", "check_digit"),
    ],
)
def test_bad_credit_codes_are_refused(value, code):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(value)
    assert exc.value.code == code

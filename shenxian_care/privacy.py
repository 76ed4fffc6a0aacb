"""Masking of sensitive personal information, as shown by default everywhere (lists, exports, API)."""

import re

# An ID number typed where a user name belongs (18 characters, or the old 15 digits), whatever its check character
_ID_NUMBER_LIKE = re.compile(r"\d{17}[\dX]|\d{15}")


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    text = str(value)
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_phone(value: str) -> str:
    if not value:
        return ""
    text = str(value)
    if len(text) <= 7:
        return text[:1] + "*" * (len(text) - 1)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_bank_account(value: str) -> str:
    if not value:
        return ""
    text = str(value).replace(" ", "")
    return "*" * max(len(text) - 4, 0) + text[-4:]


def mask_address(value: str) -> str:
    """Keep the village-level part a caregiver or official recognises; hide the house details."""
    if not value:
        return ""
    text = str(value)
    keep = min(len(text) // 2, 8)
    return text[:keep] + "****"


def mask_sign_in_name(value) -> str:
    """A user name as typed at sign-in, as the security records keep it: people do type their ID number there, and
    it is then kept masked like everywhere else (3715**********1234); any other name is kept as typed."""
    text = str(value or "")
    compact = re.sub(r"\s+", "", text).upper()
    return mask_id_number(compact) if _ID_NUMBER_LIKE.fullmatch(compact) else text


SENSITIVE_FIELDS = (
    "id_number",
    "guardian_id_number",
    "bank_account_number",
    "account_number",
    "phone",
    "guardian_phone",
    "contact_phone",
)


def mask_audit_value(value) -> str:
    """How the audit trail keeps a sensitive value it records a change of: masked like everywhere else."""
    text = str(value or "")
    return mask_id_number(text) if len(text) > 11 else mask_phone(text)

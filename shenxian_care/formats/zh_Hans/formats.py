"""Date formats for zh-hans, where they differ from Django's own.

A form shows a date through the first of DATE_INPUT_FORMATS. Django's zh-hans list starts with 2026/12/02, which
an <input type="date"> rejects (the browser wants ISO 2026-12-02 and shows the field blank): ISO comes first here,
so every date input of the portal and the admin shows its value. Slashes are still read when typed. (Django's
"%Y年%n月%j日" is left out: %n and %j are not month and day to strptime.)
"""

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S.%f",
]

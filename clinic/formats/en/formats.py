"""English for a Danish clinic: dates day first, times on the 24-hour clock.

Django's English formats are American (12/03/2026 is 3 December only to a European
reader; "3 p.m." where the clinic's staff and patients read 15:00). English here is
read by staff, foreign residents and visitors in Denmark, so dates are written day
first or with the month's name, and typed dates are read day first: a form never
takes 03/12/2026 as 12 March.
"""

DATE_FORMAT = "j F Y"  # 3 December 2026
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"  # 03/12/2026
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday

# Read in this order; the first is also what the admin's date picker writes.
DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # 03/12/2026
    "%Y-%m-%d",  # 2026-12-03
    "%d-%m-%Y",  # 03-12-2026
    "%d.%m.%Y",  # 03.12.2026
]
TIME_INPUT_FORMATS = [
    "%H:%M:%S",
    "%H:%M:%S.%f",
    "%H:%M",
]
# Django's English list reads 12/03/2026 10:00 month first: every date here is day first.
DATETIME_INPUT_FORMATS = [
    f"{date} {time}" for date in DATE_INPUT_FORMATS for time in TIME_INPUT_FORMATS
]

"""The 公示 window in working days of mainland China (Asia/Shanghai).

"公示期为5个工作日" counts the days government offices are open: weekends and public
holidays are skipped, and the Saturdays or Sundays the State Council declares working days
(调休) count. The calendar comes from `chinese_calendar` (the `chinesecalendar` package), which
carries one year at a time: each December, after the State Council publishes next year's
holidays, update its pin (docs/publication.md). For a year it does not know, the window cannot
be computed and `CalendarMissing` says so; the organizer then gives the end date by hand.
"""

import datetime

import chinese_calendar

DEFAULT_WORKING_DAYS = 5
MAX_WORKING_DAYS = 60


class CalendarMissing(Exception):
    """The holiday calendar does not cover `year` (the package needs its yearly update)."""

    def __init__(self, year: int):
        super().__init__(f"no holiday calendar for {year}")
        self.year = year
        self.message = f"节假日数据未覆盖 {year} 年，请填写公示截止日期，或更新节假日数据"


def is_working_day(day: datetime.date) -> bool:
    """Whether offices are open on `day`: weekdays except holidays, plus 调休 weekend days."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        raise CalendarMissing(day.year) from None


def window_end(starts_on: datetime.date, working_days: int = DEFAULT_WORKING_DAYS) -> datetime.date:
    """The last day of a window of `working_days` working days that starts on `starts_on`.

    The start day counts when it is a working day (民政部: "5个工作日（10月31日—11月4日）");
    a window announced on a holiday starts counting on the next working day.
    """
    if not 1 <= working_days <= MAX_WORKING_DAYS:
        raise ValueError(f"working_days must be 1–{MAX_WORKING_DAYS}")
    day, counted = starts_on, 0
    while True:
        if is_working_day(day):
            counted += 1
            if counted == working_days:
                return day
        day += datetime.timedelta(days=1)


def window_state(starts_on: datetime.date, ends_on: datetime.date, today: datetime.date) -> str:
    """`upcoming`, `open` (objections are taken) or `closed`, on the campaign's local date."""
    if today < starts_on:
        return "upcoming"
    return "open" if today <= ends_on else "closed"

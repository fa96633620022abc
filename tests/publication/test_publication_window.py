"""The 公示 window in working days: holidays skipped, 调休 weekend days counted."""

import datetime

import chinese_calendar
import pytest

from campaign.publication.window import CalendarMissing, is_working_day, window_end

D = datetime.date


def test_the_calendar_data_is_what_the_tests_assume():
    """2021 国庆: Oct 1–7 off; Sunday Sep 26 and Saturday Oct 9 were working days (调休)."""
    assert chinese_calendar.is_workday(D(2021, 9, 26)) and D(2021, 9, 26).weekday() == 6
    assert chinese_calendar.is_workday(D(2021, 10, 9)) and D(2021, 10, 9).weekday() == 5
    assert not any(chinese_calendar.is_workday(D(2021, 10, d)) for d in range(1, 8))


def test_an_adjusted_sunday_counts_as_day_one():
    assert window_end(D(2021, 9, 26)) == D(2021, 9, 30)


def test_across_national_day_and_an_adjusted_saturday():
    # Sep 30 (1), Oct 1–7 holiday, Oct 8 (2), Sat Oct 9 调休 (3), Sun 10 off, Oct 11 (4), 12 (5)
    assert window_end(D(2021, 9, 30)) == D(2021, 10, 12)


def test_a_window_announced_on_a_holiday_starts_counting_after_it():
    assert window_end(D(2021, 10, 1)) == D(2021, 10, 13)


def test_the_ministry_example_five_working_days():
    """民政部: "公示期为5个工作日（2022年10月31日—11月4日）"."""
    assert window_end(D(2022, 10, 31)) == D(2022, 11, 4)


def test_an_ordinary_weekend_is_skipped():
    assert window_end(D(2021, 6, 17), 3) == D(2021, 6, 21)  # Thu, Fri, (Sat, Sun), Mon
    assert not is_working_day(D(2021, 6, 19))


def test_a_year_without_calendar_data_is_an_error_not_a_guess():
    with pytest.raises(CalendarMissing) as missing:
        window_end(D(2099, 3, 2))
    assert missing.value.year == 2099
    assert "2099" in missing.value.message


def test_the_length_is_bounded():
    with pytest.raises(ValueError):
        window_end(D(2021, 6, 1), 0)

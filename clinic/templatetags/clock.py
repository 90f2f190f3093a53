"""Times as patients read them, on CLOCK_FORMAT's clock (clinic.clock): take wall-clock
datetimes (convert with {% load tz %}'s |timezone first).

    {{ local|time_of_day }}          2:30 PM / 14:30
    {{ local|day_and_time }}         Thursday 4 December 2026, 2:30 PM
    {{ local|day_and_time:"day" }}   Thursday 4 December, 2:30 PM
    {{ local|day_and_time:"short" }} Thu 4 Dec, 2:30 PM
"""

from django import template

from clinic import clock

register = template.Library()


@register.filter
def time_of_day(moment) -> str:
    return "" if moment in (None, "") else clock.staff_time(moment)


@register.filter
def day_and_time(moment, style: str = "long") -> str:
    return "" if moment in (None, "") else clock.patient_date_time(moment, style)

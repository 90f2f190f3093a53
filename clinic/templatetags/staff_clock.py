"""{{ local_datetime|staff_time }}: a time of day as CLOCK_FORMAT says (see clinic.clock)."""

from django import template

from clinic import clock

register = template.Library()


@register.filter
def staff_time(moment) -> str:
    return "" if moment is None else clock.staff_time(moment)

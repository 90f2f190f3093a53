"""{{ local_datetime|staff_time }}: a time of day as CLOCK_FORMAT says (see clinic.clock).
{{ local_datetime|datetime_attribute }}: the same instant for a `<time datetime="…">`."""

from django import template

from clinic import clock

register = template.Library()


@register.filter
def staff_time(moment) -> str:
    return "" if moment is None else clock.staff_time(moment)


@register.filter
def datetime_attribute(moment) -> str:
    # HTML allows one to three digits of a fraction of a second and isoformat() writes six whenever
    # there are microseconds (a consent given at 10:02:03.884362): to the second, with the offset.
    return "" if moment is None else moment.isoformat(timespec="seconds")

"""{% calendar_cells column can_book %}: a column's cells as HTML, written here rather than in the
template: a day has a hundred or more cells, and Django's template engine (its lookups, number
localisation, {% url %}, and format_html's escaping of every argument) spent more than a tenth
of a millisecond on each, the largest part of the calendar's time. The markup is the one the
template had; the only text not ours, the practitioner's name, is escaped."""

from html import escape
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def calendar_cells(column, can_book: bool) -> str:
    book = reverse("admin:booking_appointment_add")
    practitioner = column.practitioner
    name = escape(practitioner.name)
    on_day = f" on {column.day:%A} {column.day.day} {column.day:%B}" if column.day else ""
    common = f'data-practitioner="{practitioner.pk}"'
    parts = []
    for cell in column.cells:
        place = f"gr-{cell.place.row} gs-{cell.place.span}"
        start = cell.start.isoformat()
        if cell.free and can_book:
            # Slugs, a date and an instant: nothing in this query needs more than quoting the colon.
            href = (
                f"{book}?location={cell.location.slug}&amp;practitioner={practitioner.slug}"
                f"&amp;day={cell.local_day.isoformat()}&amp;at={quote(cell.at)}"
            )
            parts.append(
                f'<a class="cal-cell free {place}" id="cell-{practitioner.pk}-{int(cell.start.timestamp())}" '
                f'data-nav data-col="{column.index}" data-row="{cell.place.row}" data-start="{start}" {common} '
                f'href="{href}" aria-label="Book {cell.label}{on_day} with {name}"><span>{cell.label}</span></a>'
            )
        else:
            past = " past" if cell.past else ""
            parts.append(f'<div class="cal-cell{past} {place}" data-start="{start}" {common} aria-hidden="true"></div>')
    return mark_safe("\n".join(parts))  # noqa: S308 (built above from our own values, the name escaped)

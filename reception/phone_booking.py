"""Book for a caller: the receptionist's booking form in the admin (source "phone", or
"walk-in" for a patient at the desk).

The steps (service → location → practitioner or anyone → day) are a GET form, so the page
works without JavaScript and a link can open it prefilled: ?service=&location= (slugs),
?patient= (a Patient pk), ?discovery_call= (the call-back request being answered). A free cell
of the calendar links here with ?location=&practitioner=&day=&at= (the instant clicked) and no
service: the page then offers the services that fit that time, and the time comes preselected.
The booking is a POST whose action keeps that query string, so the screening answers travel in
the POST body only. It books through book_appointment like every other path, as the staff
member (the staff rules: from the current grid time, up to STAFF_BOOKING_HORIZON_DAYS ahead);
the confirmation email goes out from the worker, as for an online booking.
"""

from datetime import date, timedelta
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect
from django.template.defaultfilters import linebreaks_filter
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from booking import selectors
from booking.availability import BookingRules
from booking.models import Appointment
from booking.services import BookingError, book_appointment
from clinic import clock
from clinic.models import Location, Practitioner, Service
from patients.models import ConsentText
from patients.services import SAFETY_QUESTIONS, PatientRecordError, add_date_of_birth, current_consent
from reception import selectors as reception_selectors
from reception.forms import SCREENING_FLAG_FIELDS, PhoneBookingForm, PhoneBookingStepsForm, staff_start
from reception.views import calendar_url_for

DAYS_SHOWN = 7
TEMPLATE = "reception/phone_booking.html"

# What reception reads: book_appointment's messages are written for a patient booking online.
MESSAGES_FOR_RECEPTION = {
    "slot_unavailable": "That time was just taken. Choose another of the free times below.",
    "already_booked": "This patient already has an appointment at that time.",
    "initial_assessment_required": (
        "This service is for returning patients, and this patient has no treatment booked or had before "
        "that time. Book an initial assessment instead, or, if the clinic has treated them before this "
        "system, say so under “Returning patient without a record here”."
    ),
    "consent_required": "Read the consent to the caller and tick the box when they agree.",
    "consent_changed": "The consent text was updated while you were booking. Read the new version to the caller.",
}


def book_by_phone_view(request: HttpRequest, *, model_admin) -> HttpResponse:
    """AppointmentAdmin.add_view: the admin's "Add appointment" is booking for a caller."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])

    steps = PhoneBookingStepsForm(request.GET)
    call_request = _discovery_call_request(steps)
    context = {"steps": steps, "call_request": call_request, **_from_a_calendar_cell(request, steps)}

    if request.method == "POST" and steps.ready:
        form = PhoneBookingForm(request.POST, admin_site=model_admin.admin_site)
        if form.is_valid() and _earlier_flags_asked_again(form):
            try:
                appointment = _book_for_caller(steps=steps, form=form, call_request=call_request, by=request.user)
            except BookingError as error:
                context.update(_show_booking_error(form, error, steps=steps))
            except PatientRecordError as error:
                form.add_error("date_of_birth", error.message)
            else:
                model_admin.log_addition(request, appointment, [{"added": {}}])
                messages.success(request, _booked_message(appointment))
                if steps.clicked_start is not None:
                    # Booked from a free time in the calendar: back to that day, with the new block.
                    return redirect(calendar_url_for(appointment))
                return redirect(
                    reverse(
                        "admin:booking_appointment_change",
                        args=[appointment.pk],
                        current_app=model_admin.admin_site.name,
                    )
                )
        elif form.cleaned_data.get("red_flags"):
            # Said at once, before the rest of the form is complete: the caller must not wait,
            # and nothing else is asked for, as nothing is to be booked.
            context.update(_urgent_care_only(form))
        consent = current_consent()
    else:
        consent = current_consent()
        patient_id = _preselected_patient_id(steps, call_request)
        form = PhoneBookingForm(
            initial={
                "patient": patient_id,
                "consent_version": consent.version,
                # A patient known before the page opens: their last answers, to read back and confirm.
                **reception_selectors.last_screening_answers(patient_id),
            },
            admin_site=model_admin.admin_site,
        )

    if steps.ready:
        context.update(_free_times(steps, form))
    # django-stubs has AdminForm take a ModelForm only; it lays out any form's fields.
    adminform = helpers.AdminForm(form, _booking_fieldsets(consent, steps.choice.service), {}, model_admin=model_admin)  # type: ignore[arg-type]
    steps_adminform = helpers.AdminForm(steps, [(None, {"fields": list(steps.fields)})], {}, model_admin=model_admin)  # type: ignore[arg-type]
    context.update(
        model_admin.admin_site.each_context(request),
        title="Book for a caller",
        opts=Appointment._meta,
        has_view_permission=model_admin.has_view_permission(request),
        form=form,
        adminform=adminform,
        steps_adminform=steps_adminform,
        media=model_admin.media + adminform.media,
        emergency_number=settings.EMERGENCY_NUMBER,
    )
    return TemplateResponse(request, TEMPLATE, context)


def _discovery_call_request(steps: PhoneBookingStepsForm):
    """The call-back request named in the link, if any; an unknown one is a form error."""
    steps.is_valid()  # a step's error does not lose the request: the patient is preselected from it
    if not steps.cleaned_data.get("discovery_call"):
        return None
    # Imported here so that booking does not import the discovery app, which imports booking.
    from discovery.models import DiscoveryCallRequest

    call_request = DiscoveryCallRequest.objects.filter(pk=steps.cleaned_data["discovery_call"]).first()
    if call_request is None:
        steps.add_error("discovery_call", "There is no discovery-call request with the id in this link.")
    return call_request


def _preselected_patient_id(steps: PhoneBookingStepsForm, call_request) -> int | None:
    if steps.cleaned_data.get("patient"):
        return steps.cleaned_data["patient"].pk
    return call_request.patient_id if call_request else None


def _book_for_caller(*, steps: PhoneBookingStepsForm, form: PhoneBookingForm, call_request, by) -> Appointment:
    # One transaction: a call-back request is marked booked only with its appointment, and a
    # refusal to mark it (already booked, closed) undoes the booking.
    assert steps.choice.service is not None and steps.choice.location is not None  # steps.ready: both are chosen
    with transaction.atomic():
        patient = form.cleaned_data["patient"]
        if patient is not None and patient.date_of_birth is None:
            patient = add_date_of_birth(patient=patient, date_of_birth=form.cleaned_data["date_of_birth"], by=by)
        appointment = book_appointment(
            service=steps.choice.service,
            location=steps.choice.location,
            practitioner=steps.choice.practitioner,
            start=form.cleaned_data["start"],
            patient=patient,
            patient_details=form.patient_details(),
            screening=form.screening_answers(),
            consent_given=form.cleaned_data["consent"],
            source=form.cleaned_data["source"],
            consent_version=form.cleaned_data["consent_version"],
            actor=by,
            returning_patient_reason=form.cleaned_data["returning_patient_reason"],
        )
        if call_request is not None:
            from discovery.services import mark_request_booked

            mark_request_booked(call_request_id=call_request.pk, appointment=appointment, by=by)
    return appointment


def _show_booking_error(form: PhoneBookingForm, error: BookingError, *, steps: PhoneBookingStepsForm) -> dict:
    """Every refusal becomes an error on the page, with everything typed kept."""
    message = MESSAGES_FOR_RECEPTION.get(error.code, error.message)
    if error.code == "urgent_care":
        return _urgent_care_only(form)
    if error.code == "consent_changed":
        form.ask_consent_again(version=current_consent().version, message=message)
    elif error.code == "consent_required":
        form.add_error("consent", message)
    elif error.code == "slot_unavailable":
        form.add_error("start", message)
    elif error.code == "initial_assessment_required" and "returning_patient_reason" in form.fields:
        form.add_error("returning_patient_reason", message)
    else:
        form.add_error(None, message)
    if error.code == "initial_assessment_required":
        return {
            "initial_services": [
                (service, steps.query(service=service.slug, practitioner="", day=""))
                for service in selectors.new_patient_services()
            ]
        }
    return {}


def _urgent_care_only(form: PhoneBookingForm) -> dict:
    """A red flag: the urgent-care alert and its error on the red flags, and no other error
    (a missing patient or time would only distract while the caller waits)."""
    form.errors.clear()
    # Shown above the form as well: reception must not miss it.
    form.add_error("red_flags", "Do not book: the caller needs urgent care now.")
    return {"urgent_care": True}


def _free_times(steps: PhoneBookingStepsForm, form: PhoneBookingForm) -> dict:
    """The chosen day's free times as the form's radio buttons, and the days around it."""
    choice, day = steps.choice, steps.cleaned_data["day"]
    assert choice.service is not None and choice.location is not None  # steps.ready: both are chosen
    rules = BookingRules.for_staff()
    days = selectors.days_with_slots(
        service=choice.service,
        location=choice.location,
        practitioner=choice.practitioner,
        first_day=day,
        days=DAYS_SHOWN,
        rules=rules,
    )
    names = None if choice.practitioner else {item.pk: item.name for item in steps.practitioners}
    form.offer_times(days[0].slots, zone=choice.location.zone, practitioner_names=names)
    clicked, clicked_gone = steps.clicked_start, False
    if clicked is not None and not form.is_bound:
        if any(slot.start == clicked for slot in days[0].slots):
            form.initial["start"] = clicked.isoformat()
        else:
            clicked_gone = True
    shown_days_have_times = any(each.slots for each in days)
    next_free = None if shown_days_have_times else selectors.next_free_slot(choice=choice, after=day, rules=rules)
    return {
        "clicked_gone": clicked_gone,
        "clicked_time": clock.staff_time(timezone.localtime(clicked, choice.location.zone)) if clicked else "",
        "day": day,
        "location": choice.location,
        "has_free_times": bool(days[0].slots),
        "week": [(each, steps.query(day=each.date.isoformat())) for each in days],
        "previous_day_query": steps.query(day=(day - timedelta(days=1)).isoformat()) if day > steps.today else None,
        "next_day_query": _day_query(steps, day + timedelta(days=1)),
        "next_free": next_free,
        "next_free_query": (
            steps.query(day=timezone.localtime(next_free.start, choice.location.zone).date().isoformat())
            if next_free
            else None
        ),
        "steps_query": steps.query(),
    }


def _day_query(steps: PhoneBookingStepsForm, day: date) -> str | None:
    return steps.query(day=day.isoformat()) if day <= steps.last_day else None


def _booking_fieldsets(consent: ConsentText, service: Service | None) -> list:
    returning_only = service is not None and service.who_can_book == Service.WhoCanBook.RETURNING
    return [
        (
            "Patient",
            {
                "fields": ["source", "patient", *(["returning_patient_reason"] if returning_only else [])],
                "description": "An existing patient, or leave empty and fill in the new patient below.",
            },
        ),
        ("New patient", {"fields": [("first_name", "last_name"), "email", "phone", "date_of_birth"]}),
        (
            "Ask first: urgent signs",
            {
                "fields": ["red_flags"],
                "description": "Read each one to the caller. If any applies, do not book: they need urgent care now.",
            },
        ),
        (
            "Safety screening",
            {
                "fields": [*SAFETY_QUESTIONS, "screening_reviewed"],
                "description": "These never stop a booking: the practitioner reads them before the visit.",
            },
        ),
        (
            f"Consent (version {consent.version})",
            {
                "fields": ["consent", "consent_version"],
                # The text scrolls in its box: focusable, so a keyboard can scroll it too.
                "description": format_html(
                    '<div class="phone-booking-consent" tabindex="0" role="region" aria-label="Consent text, '
                    'version {}">{}</div><p>Read it to the caller. Version {}.</p>',
                    consent.version,
                    linebreaks_filter(consent.body, autoescape=True),
                    consent.version,
                ),
            },
        ),
    ]


def _booked_message(appointment: Appointment) -> str:
    # The reference, time and practitioner only: the message is stored in the session and the
    # service booked says something about the patient's health.
    local_start = timezone.localtime(appointment.start, appointment.location.zone)
    return (
        f"Booked {appointment.reference}: {dateformat.format(local_start, 'l j F Y')}, {clock.staff_time(local_start)} "
        f"{appointment.location.name} time ({appointment.location.timezone}), with {appointment.practitioner.name}. "
        "The confirmation email goes out shortly."
    )


def _from_a_calendar_cell(request: HttpRequest, steps: PhoneBookingStepsForm) -> dict:
    """A free cell of the calendar was clicked (?location=&practitioner=&day=&at=, no service yet):
    the services that fit there, each a link that opens the free times with that one chosen."""
    if steps.choice.service is not None or not request.GET.get("at"):
        return {}
    start = staff_start(request.GET["at"])
    if start is None:
        return {}
    location = Location.objects.active().filter(slug=request.GET.get("location", "")).first()
    practitioner = Practitioner.objects.active().filter(slug=request.GET.get("practitioner", "")).first()
    if location is None or practitioner is None:
        return {}
    services = reception_selectors.services_fitting(location=location, practitioner=practitioner, start=start)
    at = start.strftime("%Y-%m-%dT%H:%MZ")
    day = timezone.localtime(start, location.zone).date().isoformat()
    kept = {name: request.GET.get(name, "") for name in ("patient", "discovery_call")}
    return {
        "cell": {
            "location": location,
            "practitioner": practitioner,
            "when": f"{dateformat.format(timezone.localtime(start, location.zone), 'l j F')}, "
            f"{clock.staff_time(timezone.localtime(start, location.zone))}",
            "services": [
                (
                    service,
                    urlencode(
                        {
                            name: value
                            for name, value in {
                                "service": service.slug,
                                "location": location.slug,
                                "practitioner": practitioner.slug,
                                "day": day,
                                "at": at,
                                **kept,
                            }.items()
                            if value
                        }
                    ),
                )
                for service in services
            ],
        }
    }


def _earlier_flags_asked_again(form: PhoneBookingForm) -> bool:
    """An existing patient whose last booking flagged something (blood thinners, pregnancy…)
    that this form leaves unticked: the form comes back once, with those answers ticked again
    and a message, so that reception asks rather than drops them by picking the patient in
    the search box (which does not fill the questions in). A second submission books as sent."""
    patient = form.cleaned_data.get("patient")
    if patient is None or form.cleaned_data.get("screening_reviewed"):
        return True
    earlier = reception_selectors.last_screening_answers(patient.pk)
    dropped = [name for name in SCREENING_FLAG_FIELDS if earlier.get(name) and not form.cleaned_data.get(name)]
    if not dropped:
        return True
    form.data = cast(QueryDict, form.data).copy()  # bound to request.POST
    for name in dropped:
        form.data[form.add_prefix(name)] = "on"
    form.data[form.add_prefix("screening_reviewed")] = "1"
    answers = "; ".join(str(form.fields[name].label).lower() for name in dropped)
    form.add_error(
        None,
        f"At their last booking {patient} answered: {answers}. These are ticked again below: ask the caller, "
        "untick what no longer applies, then book.",
    )
    return False

"""Read paths for the public catalogue pages.

Each selector returns everything its page shows in a fixed number of queries,
whatever the size of the catalogue (the page tests assert the bound).
"""

from django.db.models import Case, Prefetch, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from clinic.models import Condition, Location, Practitioner, Service


def public_locations() -> QuerySet[Location]:
    return Location.objects.active()


def clinic_premises() -> QuerySet[Location]:
    """The clinics a patient can visit or call: not the "By phone" location, where we call them."""
    return Location.objects.active().filter(is_by_phone=False)


def public_services() -> QuerySet[Service]:
    return Service.objects.active()


def public_service(*, slug: str) -> Service:
    return get_object_or_404(
        Service.objects.active().prefetch_related(
            Prefetch("practitioners", queryset=Practitioner.objects.active()),
            Prefetch("conditions", queryset=Condition.objects.active()),
        ),
        slug=slug,
    )


def public_practitioners() -> QuerySet[Practitioner]:
    return Practitioner.objects.active().prefetch_related(
        Prefetch("services", queryset=Service.objects.active()),
        Prefetch("locations", queryset=Location.objects.active()),
    )


def public_practitioner(*, slug: str) -> Practitioner:
    return get_object_or_404(public_practitioners(), slug=slug)


def public_conditions() -> QuerySet[Condition]:
    return Condition.objects.active()


def public_condition(*, slug: str) -> Condition:
    """A condition page's condition, with its treatments as a newcomer reads them: first visits
    first, then what anyone may book, then follow-ups for returning patients, then the free call."""
    first_visits_first = Case(
        When(kind=Service.Kind.DISCOVERY_CALL, then=Value(3)),
        When(who_can_book=Service.WhoCanBook.NEW, then=Value(0)),
        When(who_can_book=Service.WhoCanBook.ANYONE, then=Value(1)),
        default=Value(2),
    )
    treatments = Service.objects.active().order_by(first_visits_first, "display_order", "name")
    return get_object_or_404(
        Condition.objects.active().prefetch_related(Prefetch("related_services", queryset=treatments)),
        slug=slug,
    )


def follow_up_service_for(service: Service) -> Service | None:
    """What a patient books to continue treatment after `service`: its follow-up service, else
    the service itself, unless that is for new patients only (a second initial assessment is
    no follow-up). None for discovery calls, and when the follow-up is not bookable (inactive).
    Reads service.follow_up_service: select_related it to save the query."""
    if service.kind != Service.Kind.TREATMENT:
        return None
    follow_up = service.follow_up_service
    if follow_up is None and service.who_can_book != Service.WhoCanBook.NEW:
        follow_up = service
    if follow_up is None or not follow_up.is_active or follow_up.kind != Service.Kind.TREATMENT:
        return None
    return follow_up

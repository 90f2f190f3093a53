import factory
from django.utils import timezone

from booking.models import REFERENCE_ALPHABET
from discovery.models import CallAttempt, DiscoveryCallRequest
from discovery.services import CallBackDetails


class DiscoveryCallRequestFactory(factory.django.DjangoModelFactory):
    """Writes a row directly, behind submit_call_request's back: for constraint tests and lists."""

    class Meta:
        model = DiscoveryCallRequest
        skip_postgeneration_save = True

    name = "Ada Lovelace"
    # Distinct by construction: random references from the model clash in long lists (500 rows:
    # about 1 run in 230), and a factory has no retry as submit_call_request has.
    reference = factory.Sequence(lambda n: "DC-" + "".join(REFERENCE_ALPHABET[(n // 31**i) % 31] for i in range(5)))
    phone = factory.Sequence(lambda n: f"+1614555{n % 10000:04d}")
    email = factory.Sequence(lambda n: f"caller{n}@example.com")
    best_time = DiscoveryCallRequest.BestTime.MORNING
    concern = "Sciatica down my left leg for three weeks."
    consent_to_contact = True
    consented_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def conditions(self, create, extracted, **kwargs):
        if extracted:
            self.conditions.set(extracted)


class CallAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallAttempt

    request = factory.SubFactory(DiscoveryCallRequestFactory)
    outcome = CallAttempt.Outcome.NO_ANSWER


def call_back_details(n: int = 0, **changes) -> CallBackDetails:
    fields = {
        "name": f"Grace Hopper{n}",
        "phone": f"+1614555{n % 10000:04d}",
        "email": f"grace{n}@example.com",
        "best_time": "afternoon",
        "concern": "Pain in my lower back when I sit.",
        "consent_to_contact": True,
    }
    return CallBackDetails(**{**fields, **changes})

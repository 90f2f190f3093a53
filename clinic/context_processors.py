from django.conf import settings

from clinic.outage import RememberedPremises
from clinic.search_engines import is_indexable
from clinic.selectors import clinic_premises


def clinic(request):
    # A QuerySet is lazy: pages that never show the footer (admin, API) run no query for it.
    return {
        "clinic_name": settings.CLINIC_NAME,
        "emergency_number": settings.EMERGENCY_NUMBER,
        "clinic_locations": RememberedPremises(clinic_premises()),
        "indexable": is_indexable(request),
    }

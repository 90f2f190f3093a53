from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from clinic import search_engines, staff_otp, views

catalogue_patterns = (
    [
        path("", views.home, name="home"),
        path("services/", views.service_list, name="service_list"),
        path("services/<slug:slug>/", views.service_detail, name="service_detail"),
        path("practitioners/", views.practitioner_list, name="practitioner_list"),
        path("practitioners/<slug:slug>/", views.practitioner_detail, name="practitioner_detail"),
        path("conditions/", views.condition_list, name="condition_list"),
        path("conditions/<slug:slug>/", views.condition_detail, name="condition_detail"),
    ],
    "clinic",
)

urlpatterns = [
    # First: an availability lookup is the most frequent request, and each pattern above it
    # would be one more regular expression tried on every one of them.
    path("api/v1/", include(("api.urls", "api"))),
    path("", include(catalogue_patterns)),
    path("", include("booking.urls")),
    path("", include("discovery.urls")),
    path("", include("waitlist.urls")),
    path("schedule/", include("schedule.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", search_engines.robots_txt, name="robots_txt"),
    path("favicon.ico", search_engines.favicon, name="favicon"),
    path("staff/", include(staff_otp.urlpatterns)),
    path("admin/reception/", include("reception.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = f"{settings.CLINIC_NAME}: reception"
admin.site.site_title = "Clinic admin"
admin.site.index_title = "Reception desk"

# A database outage answers 503 with Retry-After (clinic/outage.py); anything else, the 500 page.
handler500 = "clinic.outage.server_error"

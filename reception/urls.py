"""The front desk's pages, under /admin/reception/: inside the admin's login (admin_view sends
anyone else to it), each view checking its own permission."""

from django.contrib import admin
from django.urls import path

from reception import views

app_name = "reception"

# The poll answers 401 itself when the login has ended: the admin's redirect to its login
# page would be swapped into the calendar.
urlpatterns = [
    path("calendar/", admin.site.admin_view(views.calendar), name="calendar"),
    path("calendar/updates/", views.calendar_updates, name="calendar_updates"),
    path("week/", admin.site.admin_view(views.week), name="week"),
    path("patients/search/", admin.site.admin_view(views.patient_search), name="patient_search"),
    path("appointments/<int:pk>/", admin.site.admin_view(views.appointment_panel), name="panel"),
    path("appointments/<int:pk>/status/", admin.site.admin_view(views.change_status), name="change_status"),
    path("appointments/<int:pk>/cancel/", admin.site.admin_view(views.cancel), name="cancel"),
    path("appointments/<int:pk>/move/", admin.site.admin_view(views.move), name="move"),
    path("appointments/<int:pk>/drop/", admin.site.admin_view(views.drop), name="drop"),
]

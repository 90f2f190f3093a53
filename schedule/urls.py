from django.urls import path

from schedule import feed, time_off, views

app_name = "schedule"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("", views.day, name="day"),
    path("week/", views.week, name="week"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/status/", views.change_status, name="change_status"),
    path("time-off/", time_off.time_off_list, name="time_off"),
    path("time-off/<int:pk>/remove/", time_off.remove, name="remove_time_off"),
    path("feed/", feed.feed_settings, name="feed_settings"),
    path("feed/<str:token>.ics", feed.calendar_feed, name="feed"),
]

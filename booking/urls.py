from django.urls import path

from booking import views

app_name = "booking"

urlpatterns = [
    path("book/", views.start, name="start"),
    path("book/details/", views.details, name="details"),
    path("appointments/<str:token>/", views.manage, name="manage"),
    path("appointments/<str:token>/calendar.ics", views.calendar_file, name="calendar"),
    path("appointments/<str:token>/cancel/", views.cancel, name="cancel"),
    path("appointments/<str:token>/reschedule/", views.reschedule, name="reschedule"),
    path("appointments/<str:token>/follow-ups/", views.follow_ups, name="follow_ups"),
    path("appointments/<str:token>/follow-ups/book/", views.book_follow_up_session, name="book_follow_up_session"),
]

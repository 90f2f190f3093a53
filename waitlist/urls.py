from django.urls import path

from waitlist import views

app_name = "waitlist"

urlpatterns = [
    path("waitlist/join/", views.join, name="join"),
    path("waitlist/joined/", views.joined, name="joined"),
    path("waitlist/offers/<str:token>/", views.offer, name="offer"),
    path("waitlist/<str:token>/", views.entry, name="entry"),
    path("waitlist/<str:token>/leave/", views.leave, name="leave"),
    path("waitlist/<str:token>/unsubscribe/", views.one_click_leave, name="one_click_leave"),
]

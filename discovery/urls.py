from django.urls import path

from discovery import views

app_name = "discovery"

urlpatterns = [
    path("discovery-call/", views.request_call, name="request"),
    path("discovery-call/thanks/<str:token>/", views.thanks, name="thanks"),
]

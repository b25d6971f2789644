from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("me/", views.me, name="me"),
    path("programs/<int:pk>/", views.program, name="program"),
    path("flags/<int:pk>/", views.flag, name="flag"),
    path("flags/<int:pk>/<slug:verb>/", views.flag_act, name="flag-act"),
    path("sessions/<int:pk>/record/", views.session_record_page, name="session-record"),
]

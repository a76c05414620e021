from django.urls import path

from . import views

app_name = "appeals"

urlpatterns = [
    path("obrashchenie/", views.new, name="new"),
    path("obrashchenie/otpravleno/", views.sent, name="sent"),
    path("obrashchenie/status/", views.status, name="status"),
]

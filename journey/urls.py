from django.urls import path

from . import views

app_name = "journey"

urlpatterns = [
    path("v-drugom-regione/", views.question, name="form"),
    path("v-drugom-regione/otvet/", views.go, name="go"),
    path("v-drugom-regione/<slug:policy>/<slug:place>/", views.answer, name="answer"),
    path("v-drugom-regione/<slug:policy>/<slug:place>/izmenit/", views.change, name="change"),
]

from django.urls import path

from . import views

app_name = "representatives"

urlpatterns = [
    path(
        "regions/<slug:slug>/representatives/",
        views.region_representatives,
        name="region",
    ),
]

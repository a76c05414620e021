from django.urls import path, register_converter

from . import converters, views

register_converter(converters.RowId, "id")

app_name = "regions"

urlpatterns = [
    path("regions/", views.region_list, name="list"),
    path("regions/choose/", views.choose_region, name="choose"),
    path("regions/<slug:slug>/", views.region_detail, name="detail"),
    path("files/", views.file_list, name="files"),
    path("files/<id:pk>/", views.download, name="download"),
    path("files/contacts.csv", views.contacts_csv, name="contacts_csv"),
    path("files/contacts.xlsx", views.contacts_xlsx, name="contacts_xlsx"),
    # Where admin links an uploaded file (MEDIA_URL): nothing is served by its stored path.
    path("media/<path:name>", views.stored_file, name="stored_file"),
]

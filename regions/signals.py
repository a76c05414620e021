from .caching import watch
from .models import Region, RegistryFile, Subject

# The region index, region pages, file lists and downloads are all made from these rows: a
# change to any of them drops every cached page and datum at once (see regions/caching.py).
watch(Region, RegistryFile, Subject)

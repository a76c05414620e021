from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import REGION_INDEX_CACHE_KEY, Region


@receiver([post_save, post_delete], sender=Region)
def drop_region_index(**kwargs):
    # Dropped now for this request and again after commit, so that a page rendered by another
    # instance during the transaction cannot put the old data back for good.
    cache.delete(REGION_INDEX_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(REGION_INDEX_CACHE_KEY))

from django.utils.functional import SimpleLazyObject

from .models import Company


def company(request):
    # Lazy: a response that renders no footer (a redirect, a download) reads nothing.
    return {"company": SimpleLazyObject(Company.objects.current)}

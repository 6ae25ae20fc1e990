"""bench/urls.py plus MEDIA_ROOT under /media/, as the reverse proxy serves it in production."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from bench.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401

urlpatterns = [
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    *urlpatterns,
]

"""The site's URLs plus /bench/constant/, a view that returns the same bytes every time."""

from django.http import HttpResponse
from django.urls import path

from clinic.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401

BODY = b"<!doctype html><title>constant</title><p>" + b"x" * 20_000


def constant(request):
    return HttpResponse(BODY)


urlpatterns = [path("bench/constant/", constant), *urlpatterns]

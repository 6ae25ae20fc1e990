"""The site's URLs plus /bench/constant/, a view that returns the same bytes every time,
and /bench/upload/<pk>/, which hands a booking to booking.upload_views.handle_upload."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path

from booking.upload_views import accepts_uploads, handle_upload
from clinic.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401

BODY = b"<!doctype html><title>constant</title><p>" + b"x" * 20_000


def constant(request):
    return HttpResponse(BODY)


@accepts_uploads
def upload(request, pk):
    from booking.models import Booking

    return handle_upload(request, get_object_or_404(Booking, pk=pk))


urlpatterns = [
    path("bench/constant/", constant),
    path("bench/upload/<int:pk>/", upload),
    *urlpatterns,
]

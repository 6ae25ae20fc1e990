"""Staff-only imaging review URLs (no language prefix), included at /staff/imaging/."""

from django.urls import path

from booking.imaging import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("booking/<int:pk>/", views.booking_detail, name="booking"),
    path("series/<int:pk>/", views.viewer, name="viewer"),
    path("image/<int:pk>/preview/", views.instance_preview, name="instance_preview"),
    path("image/<int:pk>/thumbnail/", views.instance_thumbnail, name="instance_thumbnail"),
    path("image/<int:pk>/raw/", views.instance_raw, name="instance_raw"),
    path("study/<int:pk>/download/", views.study_download, name="study_download"),
    path("report/<int:pk>/preview/", views.report_preview, name="report_preview"),
    path("report/<int:pk>/download/", views.report_document, name="report_document"),
    path("file/<int:pk>/preview/", views.upload_preview, name="upload_preview"),
    path("file/<int:pk>/download/", views.upload_download, name="upload_download"),
]

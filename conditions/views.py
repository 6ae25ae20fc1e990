"""Public pages for conditions, treatments and questions."""

from django.http import Http404


def condition_index(request):
    raise Http404


def condition_detail(request, slug):
    raise Http404


def treatment_index(request):
    raise Http404


def treatment_detail(request, slug):
    raise Http404


def faq_index(request):
    raise Http404

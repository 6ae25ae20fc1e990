"""Staff's second factor: who needs it, and the pages that ask for it or set it up.

Doctors, reception and superusers see health data, so their password alone never
reaches the admin or the imaging pages: after the password they enter a code from
an authenticator app (TOTP) or a one-time backup code, and whoever has no app yet
is sent to enrolment first. Editors may turn it on; once they have, they are asked
too. The devices and the checking of codes (drift, replay, throttling) are
django-otp's; this module holds the rule and the three pages, which are admin
pages (ClinicAdminSite.get_urls) reachable with a password-only session.

A lost phone: a superuser deletes the member's "TOTP device" in the admin, and the
member enrols again at the next login.
"""

import io

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import mark_safe
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import staff_groups

REQUIRED_GROUPS = (staff_groups.DOCTORS, staff_groups.RECEPTION)
PENDING_DEVICE_NAME = "pending"
APP_DEVICE_NAME = "authenticator app"
BACKUP_DEVICE_NAME = "backup codes"
# Backup codes made at enrolment wait here until the page that shows them once.
NEW_CODES_SESSION_KEY = "two_factor_new_backup_codes"


def totp_issuer(device) -> str:
    from clinic.models import ClinicDetails

    clinic = ClinicDetails.load()
    return clinic.name if clinic else str(_("Clinic"))


# --- The rule ------------------------------------------------------------------------


def second_factor_required(user) -> bool:
    """Superusers, doctors and reception must use two factors."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=REQUIRED_GROUPS).exists()


def is_enrolled(user) -> bool:
    return user.is_authenticated and user_has_device(user, confirmed=True)


def second_factor_missing(request) -> bool:
    """The staff member logged in with a password but still owes the second factor."""
    user = request.user
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_second_factor_missing", None)
    if cached is None:
        verified = getattr(user, "is_verified", lambda: False)()
        cached = not verified and (second_factor_required(user) or is_enrolled(user))
        user._second_factor_missing = cached
    return cached


def next_step_url(request, next_url: str) -> str:
    """Where a staff member goes after the password: the code, enrolment, or on."""
    if not second_factor_missing(request):
        return next_url
    name = "admin:two_factor_verify" if is_enrolled(request.user) else "admin:two_factor_enrol"
    return f"{reverse(name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


def safe_next_url(request) -> str:
    """The ?next= address if it stays on this site, else the admin's index."""
    next_url = request.POST.get(REDIRECT_FIELD_NAME, request.GET.get(REDIRECT_FIELD_NAME, ""))
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return reverse("admin:index")


# --- Forms ---------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, device=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device
        self.user = user
        self.matched = None

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).lower()
        if self.device is not None:
            # Enrolment: the code must come from the new app, nothing else.
            if not self.device.verify_token(code):
                raise forms.ValidationError(
                    _("That code is not right. Check the app's clock and try the newest code.")
                )
            self.matched = self.device
        else:
            self.matched = match_token(self.user, code)
            if self.matched is None:
                raise forms.ValidationError(
                    _(
                        "That code is not right. Use the newest code from your app, "
                        "or one of your backup codes. Wait a moment between tries."
                    )
                )
        return code


# --- Services ------------------------------------------------------------------------


def qr_code_svg(text: str) -> str:
    """An inline SVG QR code (drawn on the server: no script, nothing from other hosts)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg") :]
    return svg.replace("<svg ", '<svg role="img" aria-hidden="true" focusable="false" ', 1)


def pending_device(user) -> TOTPDevice:
    """The not yet confirmed app of the user, made once and kept until confirmed."""
    device = TOTPDevice.objects.filter(user=user, name=PENDING_DEVICE_NAME, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=PENDING_DEVICE_NAME, confirmed=False)


def new_backup_codes(user) -> list[str]:
    """Replace the user's backup codes with new ones; returns them (shown once)."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(settings.TWO_FACTOR_BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def confirm_device(*, user, device: TOTPDevice) -> list[str]:
    """Make `device` the user's only app and give them fresh backup codes."""
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.name = APP_DEVICE_NAME
    device.confirmed = True
    device.save()
    return new_backup_codes(user)


def demo_device(user) -> TOTPDevice:
    """A confirmed app for a demo login (clinic/demo.py only), kept across reruns."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=True)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, as authenticator apps ask for it."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- Pages ---------------------------------------------------------------------------


def _context(request, admin_site, title: str, **extra) -> dict:
    return {
        **admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        REDIRECT_FIELD_NAME: safe_next_url(request),
        **extra,
    }


def redirect_to_admin_login(request):
    query = urlencode({REDIRECT_FIELD_NAME: safe_next_url(request)})
    return HttpResponseRedirect(f"{reverse('admin:login')}?{query}")


@sensitive_post_parameters("code")
@never_cache
def verify_view(request, admin_site):
    """The second step of the login: a code from the app or a backup code."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect_to_admin_login(request)
    if not second_factor_missing(request):
        return HttpResponseRedirect(safe_next_url(request))
    if not is_enrolled(user):
        return redirect(next_step_url(request, safe_next_url(request)))
    form = CodeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        otp_login(request, form.matched)
        return HttpResponseRedirect(safe_next_url(request))
    request.current_app = admin_site.name
    return TemplateResponse(
        request,
        "admin/two_factor/verify.html",
        _context(request, admin_site, _("Enter your code"), form=form),
    )


@sensitive_post_parameters("code")
@never_cache
def enrol_view(request, admin_site):
    """Set up an authenticator app: the QR code, the secret as text, and a first code.

    Reached right after the password by staff who must use two factors and have
    no app yet, or by a verified member who replaces the app or turns it on. A
    password alone never replaces an app already set up.
    """
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect_to_admin_login(request)
    if is_enrolled(user) and not user.is_verified():
        return redirect(next_step_url(request, safe_next_url(request)))
    device = pending_device(user)
    form = CodeForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        codes = confirm_device(user=user, device=device)
        otp_login(request, device)
        request.session[NEW_CODES_SESSION_KEY] = codes
        query = urlencode({REDIRECT_FIELD_NAME: safe_next_url(request)})
        return HttpResponseRedirect(f"{reverse('admin:two_factor_backup_codes')}?{query}")
    request.current_app = admin_site.name
    return TemplateResponse(
        request,
        "admin/two_factor/enrol.html",
        _context(
            request,
            admin_site,
            _("Set up two-factor authentication"),
            form=form,
            qr_code=mark_safe(qr_code_svg(device.config_url)),
            secret=secret_text(device),
            required=second_factor_required(user),
            replacing=is_enrolled(user),
        ),
    )


@never_cache
def backup_codes_view(request, admin_site):
    """The new backup codes, shown once; a verified member may make new ones (POST)."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect_to_admin_login(request)
    if second_factor_missing(request):
        return redirect(next_step_url(request, safe_next_url(request)))
    if request.method == "POST" and is_enrolled(user):
        request.session[NEW_CODES_SESSION_KEY] = new_backup_codes(user)
        return HttpResponseRedirect(request.get_full_path())
    codes = request.session.pop(NEW_CODES_SESSION_KEY, None)
    device = StaticDevice.objects.filter(user=user, name=BACKUP_DEVICE_NAME).first()
    remaining = device.token_set.count() if device else 0
    request.current_app = admin_site.name
    return TemplateResponse(
        request,
        "admin/two_factor/backup_codes.html",
        _context(
            request,
            admin_site,
            _("Two-factor authentication"),
            codes=codes,
            remaining=remaining,
            enrolled=is_enrolled(user),
        ),
    )

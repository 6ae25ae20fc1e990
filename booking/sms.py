"""Text messages (SMS): one function to send one, behind a backend named in settings.

It works like Django's e-mail backends. `settings.SMS_BACKEND` names a class whose
`send(*, to, text, sender)` hands the message on or raises `SmsError`:

- `ConsoleBackend` prints messages (development),
- `LocmemBackend` keeps them in `outbox` (tests),
- `HttpGatewayBackend` posts them as JSON to the clinic's SMS gateway (production).

The gateway is a data processor: it receives the phone number and the message text,
so callers must never put health data in a text message.
"""

import http.client
import json
import sys
import urllib.error
import urllib.request

import phonenumbers
from django.conf import settings
from django.utils.module_loading import import_string

# What LocmemBackend "sent": one {"to", "text", "sender"} dict per message.
outbox: list[dict[str, str]] = []

# Number types a text message can reach. In some countries (Denmark, the USA) the
# numbering plan does not tell landlines from mobiles; those numbers are accepted.
TEXTABLE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


class SmsError(Exception):
    """The message was not accepted.

    The message of the exception is safe to log: it never holds the phone number,
    the text of the message or the gateway's token.
    """


def normalise_phone(number: str, default_country: str = "+45") -> str | None:
    """The number in E.164 ("+4520123456"), or None if it cannot receive a text message.

    Patients type numbers in many ways ("20 12 34 56", "+45 20123456", "0045 ...",
    "+46 70 123 45 67"); a number without a country code is taken to be in
    `default_country` (a calling code such as "+45"). Numbers that cannot exist and
    known landlines are refused, so a reminder is never sent into the void.
    """
    region = phonenumbers.region_code_for_country_code(int(default_country.lstrip("+")))
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.number_type(parsed) not in TEXTABLE_TYPES:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def send_sms(*, to: str, text: str) -> None:
    """Send one text message through the configured backend; raise SmsError if not accepted.

    `to` may be written as the patient typed it; the backend always gets E.164.
    """
    number = normalise_phone(to)
    if number is None:
        raise SmsError("not a number that can receive text messages")
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(to=number, text=text, sender=settings.SMS_SENDER)


class ConsoleBackend:
    """Development: print each message instead of sending it."""

    def send(self, *, to: str, text: str, sender: str) -> None:
        sys.stdout.write(f"SMS from {sender} to {to}:\n{text}\n{'-' * 40}\n")
        sys.stdout.flush()


class LocmemBackend:
    """Tests: keep each message in the module's `outbox` list."""

    def send(self, *, to: str, text: str, sender: str) -> None:
        outbox.append({"to": to, "text": text, "sender": sender})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not an acceptance: following it would turn the POST into a GET."""

    def redirect_request(self, *args, **kwargs):
        return None


class HttpGatewayBackend:
    """Production: POST {"to", "from", "text"} as JSON to SMS_GATEWAY_URL.

    The token goes in an "Authorization: Bearer" header. Any 2xx answer means the
    gateway accepted the message; anything else, including no answer within
    SMS_TIMEOUT seconds, raises SmsError.
    """

    def __init__(self):
        self.url = settings.SMS_GATEWAY_URL
        self.token = settings.SMS_GATEWAY_TOKEN
        self.timeout = settings.SMS_TIMEOUT

    def send(self, *, to: str, text: str, sender: str) -> None:
        if not self.url:
            raise SmsError("no gateway configured")
        if not self.url.startswith(("https://", "http://")):
            raise SmsError("the gateway URL must start with https:// or http://")
        body = json.dumps({"to": to, "from": sender, "text": text}).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {self.token}",
        }
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            with opener.open(request, timeout=self.timeout):
                pass
        except urllib.error.HTTPError as error:
            error.close()
            raise SmsError(f"the gateway answered HTTP {error.code}") from None
        except TimeoutError:
            raise SmsError(self._timeout_message()) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise SmsError(self._timeout_message()) from None
            raise SmsError(f"the gateway could not be reached: {error.reason}") from None
        except (OSError, ValueError, http.client.HTTPException) as error:
            # Only the type: a ValueError can quote a header, and so the token.
            raise SmsError(f"sending to the gateway failed: {type(error).__name__}") from None

    def _timeout_message(self) -> str:
        return f"the gateway did not answer within {self.timeout} s"

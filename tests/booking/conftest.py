"""Fixtures for the booking tests: the clinic's details, a free port, a real SMS gateway."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from clinic.models import ClinicDetails

TOKEN = "gw-token-7f3a9c"
GATEWAY = "booking.sms.HttpGatewayBackend"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def clinic(db):
    """A made-up clinic, as the messages and the private page name it."""
    return ClinicDetails.objects.create(
        name="Testklinikken",
        phone="+45 70 20 30 40",
        email="clinic@example.com",
        street_address="Kildevej 1",
        postal_code="8000",
        city="Aarhus C",
    )


class FakeGateway(BaseHTTPRequestHandler):
    """Records each request and answers with the server's `status` after `hold` is set."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.server.received.append(
            {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
        )
        if self.server.slow:
            self.server.release.wait(timeout=5)
        self.send_response(self.server.status)
        if 300 <= self.server.status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    """A real HTTP server on 127.0.0.1, and settings that point the gateway backend at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGateway)
    server.daemon_threads = True
    server.received, server.status, server.slow = [], 202, False
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    with override_settings(
        SMS_BACKEND=GATEWAY, SMS_GATEWAY_URL=url, SMS_GATEWAY_TOKEN=TOKEN, SMS_SENDER="Egebaek"
    ):
        yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def demo_site(db):
    """The demo clinic, and what the browser tests of the booking pick from it."""
    from django.core.management import call_command

    from booking.models import Anticoagulant, AppointmentType
    from clinic.models import Practitioner
    from conditions.models import Condition

    call_command("load_demo", verbosity=0)
    return {
        "gold": AppointmentType.objects.get(name_da="Guldimplantation"),
        "neck": Condition.objects.get(slug_da="nakkesmerter"),
        "eliquis": Anticoagulant.objects.get(brand="Eliquis"),
        "doctor": Practitioner.objects.get(name="Mette Egelund Brask"),
    }

"""Several machines on one: the harness of tests/test_two_nodes.py.

Two gunicorn instances, each with its own VAR_DIR (as each machine has its own disk), one
task worker with its own VAR_DIR, and nginx in front of them running deploy/nginx.conf.
They share what machines share in production: the test's PostgreSQL database, one Redis
database (under a key prefix of their own) and two S3 buckets on moto_server
(tests/s3.py). Every process writes a log file under the test's tmp_path;
`Cluster.logs()` gathers their ends for failure messages and `Cluster.stop()` ends them
all, also when the test fails.
"""

import datetime
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urljoin

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

ROOT = Path(__file__).resolve().parent.parent
NGINX_SITE = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")
START_SECONDS = 60
# Each app server's access log names the proxy headers it received.
ACCESS_LOG_FORMAT = (
    '%(h)s "%(r)s" %(s)s xff="%({x-forwarded-for}i)s" proto="%({x-forwarded-proto}i)s"'
)
# Variables of the test process that must not reach a production-settings process.
NOT_INHERITED = ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_XDIST_WORKER")


# --- Processes --------------------------------------------------------------------------


class Cluster:
    """The processes a test started, each with a log file; all ended by `stop()`."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.processes: dict[str, subprocess.Popen] = {}
        self.log_paths: dict[str, Path] = {}

    def start(self, name: str, command: list[str], env: dict, **popen) -> subprocess.Popen:
        log_path = self.tmp_path / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, **popen
            )
        self.processes[name] = process
        self.log_paths[name] = log_path
        return process

    def run(self, name: str, command: list[str], env: dict, timeout: float = 120) -> None:
        """Run a command to its end (its output in its own log); fail with the log."""
        process = self.start(name, command, env)
        try:
            process.wait(timeout=timeout)
        finally:
            self.processes.pop(name, None)
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0:
            raise AssertionError(f"{name} failed ({process.returncode}):\n{self.logs([name])}")

    def logs(self, names=None, lines: int = 40) -> str:
        """The last lines of each log (or of the named ones), for a failure message."""
        parts = []
        for name, path in self.log_paths.items():
            if names is None or name in names:
                text = path.read_text(errors="replace") if path.exists() else ""
                tail = "\n".join(text.splitlines()[-lines:])
                parts.append(f"--- {name} ({path}) ---\n{tail}")
        return "\n".join(parts)

    def check_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} stopped ({process.returncode}):\n{self.logs()}")

    def stop(self) -> None:
        """SIGTERM to every process (gunicorn and the worker finish gracefully), then kill."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def wait_for(condition, *, timeout: float, what: str, cluster: Cluster | None = None):
    """Poll `condition` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if cluster is not None:
            cluster.check_running()
        if value := condition():
            return value
        if time.monotonic() > deadline:
            logs = f"\n{cluster.logs()}" if cluster is not None else ""
            raise AssertionError(f"Waited {timeout:g} s for {what}.{logs}")
        time.sleep(0.1)


def listening_socket() -> socket.socket:
    """A socket listening on a free port, to be handed to a child process."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_buckets(cluster: Cluster, s3_environment: dict[str, str]) -> None:
    """The buckets as a deployment makes them: deploy/create_buckets.py (a public-read
    policy on the public bucket; the private one closed and encrypted)."""
    env = {**os.environ, **s3_environment}
    cluster.run("create-buckets", [sys.executable, "deploy/create_buckets.py"], env)


# --- The app's environment --------------------------------------------------------------


def database_url() -> str:
    """The test database, as DATABASE_URL for the production settings."""
    db = settings.DATABASES["default"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or 'localhost'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}?application_name=clinic-two-nodes"
    )


def redis_url() -> str | None:
    """The test process's own Redis database (it clears it before and after each test)."""
    cache = settings.CACHES["default"]
    return cache["LOCATION"] if cache["BACKEND"].endswith("RedisCache") else None


def app_environment(static_root: Path, s3_environment: dict[str, str]) -> dict[str, str]:
    """The production settings' variables every process of the cluster shares.

    Each process adds its own VAR_DIR. Plain HTTP between the test and the app servers:
    SECURE_SSL_REDIRECT=0 and SECURE_COOKIES=0 (nginx still speaks TLS to the test).
    """
    inherited = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "clinic.settings.base",
        # Logs reach their files at once (they are read while the processes run).
        "PYTHONUNBUFFERED": "1",
        "DEBUG": "0",
        # The test's own key: private links the test makes open on the app servers.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url(),
        "CACHE_KEY_PREFIX": f"two-nodes-{uuid.uuid4().hex[:8]}",
        "STATIC_ROOT": str(static_root),
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "TRUSTED_PROXY_HOPS": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "SMS_BACKEND": "booking.sms.ConsoleBackend",
        # Uploads are refused when the disk is nearly full; a test machine's disk may be small.
        "UPLOAD_MIN_FREE_BYTES": str(256 * 1024**2),
        **s3_environment,
    }


def collect_static(cluster: Cluster, env: dict, static_root: Path) -> None:
    """One `collectstatic` for every instance here (each real machine runs its own)."""
    cluster.run(
        "collectstatic",
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        {**env, "VAR_DIR": str(static_root.parent / "var-collectstatic")},
    )


def start_app_server(cluster: Cluster, name: str, env: dict) -> str:
    """gunicorn on a socket bound here (no port race); returns its URL (see `wait_until_serving`).

    Connections made before it is ready wait in the socket's queue.
    """
    sock = listening_socket()
    fd = sock.fileno()
    var_dir = cluster.tmp_path / f"var-{name}"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "clinic.wsgi",
        "--bind",
        f"fd://{fd}",
        "--worker-class",
        "gthread",
        "--workers",
        "1",
        "--threads",
        "4",
        "--timeout",
        "120",
        # Tests end it at once; production gives requests in hand time to finish.
        "--graceful-timeout",
        "1",
        # Several instances on one machine: gunicorn's per-user control socket is not shared.
        "--no-control-socket",
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
    ]
    try:
        cluster.start(name, command, {**env, "VAR_DIR": str(var_dir)}, pass_fds=(fd,))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()  # the child holds its own copy
    return url


def wait_until_serving(cluster: Cluster, *urls: str) -> None:
    for url in urls:
        wait_for(
            lambda url=url: _answers(f"{url}/health/"),
            timeout=START_SECONDS,
            what=f"{url} to answer",
            cluster=cluster,
        )


def start_worker(cluster: Cluster, env: dict) -> None:
    """One task worker for every queue, as a small installation runs it."""
    cluster.start(
        "worker",
        [sys.executable, "manage.py", "run_worker", "--queue-name", "imaging,messages,default"]
        + ["--no-reload", "--no-startup-delay", "--interval", "0.2", "-v", "2"],
        {**env, "VAR_DIR": str(cluster.tmp_path / "var-worker")},
    )


def client(certificate: Path | None = None) -> requests.Session:
    """An HTTP client that ignores the machine's proxy and CA settings from the environment
    (REQUESTS_CA_BUNDLE would replace `verify`), trusting only `certificate` for HTTPS."""
    session = requests.Session()
    session.trust_env = False
    if certificate is not None:
        session.verify = str(certificate)
    return session


def _answers(url: str, certificate: Path | None = None) -> bool:
    try:
        return client(certificate).get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


# --- nginx ------------------------------------------------------------------------------


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path = folder / "certificate.pem"
    key_path = folder / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return certificate_path, key_path


def _replace(pattern: str, replacement: str, text: str, count: int) -> str:
    """re.subn that insists on matching exactly `count` times (the shipped file changed?)."""
    result, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if found != count:
        raise AssertionError(f"deploy/nginx.conf: {pattern!r} matched {found} times, not {count}")
    return result


def render_nginx_site(
    upstreams: list[str], http_port: int, https_port: int, certificate: Path, key: Path
) -> str:
    """deploy/nginx.conf with only what differs on this machine changed.

    The upstream's `server` lines become the test's app servers, `listen 80` and
    `listen 443` become free ports on 127.0.0.1, and the certificate paths point at a
    self-signed pair. Everything else is the shipped file, line for line.
    """
    text = NGINX_SITE.read_text()
    servers = "".join(f"    server {url.removeprefix('http://')};\n" for url in upstreams)
    text = _replace(
        r"^    server \d+\.\d+\.\d+\.\d+:\d+ .*;\n(    server .*;\n)*", servers, text, 1
    )
    text = _replace(r"^    listen 80;$", f"    listen 127.0.0.1:{http_port};", text, 1)
    text = _replace(
        r"^    listen 443 ssl http2;$", f"    listen 127.0.0.1:{https_port} ssl http2;", text, 1
    )
    text = _replace(r"^    ssl_certificate \S+;$", f"    ssl_certificate {certificate};", text, 1)
    return _replace(r"^    ssl_certificate_key \S+;$", f"    ssl_certificate_key {key};", text, 1)


def nginx_main_config(folder: Path, site: Path) -> str:
    """The `events` and `http` blocks around the site, with every path under `folder`.

    Debian's nginx keeps its temporary files under /var/lib/nginx, which only root
    may write; here they go to `folder`.
    """
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        "worker_processes 1;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        f"    include {MIME_TYPES};\n"
        "    default_type application/octet-stream;\n"
        f"    access_log {folder / 'access.log'};\n"
        f"{temp}\n"
        f"    include {site};\n"
        "}\n"
    )


class Nginx:
    """nginx as this user, on two free ports (plain HTTP that redirects, and HTTPS)."""

    def __init__(self, cluster: Cluster, upstreams: list[str]):
        self.folder = cluster.tmp_path / "nginx"
        self.folder.mkdir()
        self.certificate, key = self_signed_certificate(self.folder)
        for _attempt in range(3):  # another process may take a free port first
            self.http_port, self.https_port = free_port(), free_port()
            site = self.folder / "site.conf"
            site.write_text(
                render_nginx_site(upstreams, self.http_port, self.https_port, self.certificate, key)
            )
            config = self.folder / "nginx.conf"
            config.write_text(nginx_main_config(self.folder, site))
            directives = (
                f"daemon off; master_process on; pid {self.folder / 'nginx.pid'}; "
                f"error_log {self.folder / 'error.log'} info;"
            )
            process = cluster.start(
                "nginx", [NGINX, "-p", str(self.folder), "-c", str(config), "-g", directives], {}
            )
            deadline = time.monotonic() + START_SECONDS
            while process.poll() is None and time.monotonic() < deadline:
                if _answers(f"{self.url}/health/", self.certificate):
                    return
                time.sleep(0.1)
            if process.poll() is None:
                break
            # Exited: most likely a port was taken. Try two other ports.
        raise AssertionError(f"nginx did not start:\n{cluster.logs()}\n{self.error_log()}")

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


# --- Pages and forms --------------------------------------------------------------------


class _FormReader(HTMLParser):
    """What a browser would submit from the form with the given id (no buttons, no files)."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
            self.found = self.found or self.inside
        if not self.inside or attributes.get("disabled") is not None:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.fields.append((name, attributes.get("value") or "on"))
                return
            self.fields.append((name, attributes.get("value") or ""))
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attributes, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attributes.get("value"),
                "selected": "selected" in attributes,
                "text": "",
            }
            self._select["options"].append(self._option)
        elif tag == "textarea" and name:
            self._textarea = {"name": name, "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "option":
            self._option = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea["text"]
            self.fields.append((self._textarea["name"], text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [option for option in options if option["selected"]]
            if not chosen and options and not self._select["multiple"]:
                chosen = options[:1]
            for option in chosen:
                value = option["value"] if option["value"] is not None else option["text"]
                self.fields.append((self._select["name"], value.strip()))
            self._select = None


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """The (name, value) pairs the form with this id would send, as a browser sends them."""
    reader = _FormReader(form_id)
    reader.feed(html)
    if not reader.found:
        raise AssertionError(f"No form with id {form_id!r} in the page:\n{html[:2000]}")
    return reader.fields


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if match is None:
        raise AssertionError(f"No CSRF token in the page:\n{html[:2000]}")
    return match.group(1)


def set_password(user, password: str) -> None:
    """A password the production settings can check (the test settings hash with MD5).

    Few iterations, to be quick: the app servers rehash it at the first login.
    """
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(password, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


def page_text(response: requests.Response, limit: int = 1500) -> str:
    """A response's status and its main text without markup, for failure messages."""
    text = response.text
    main = re.search(r"<main.*?</main>", text, re.DOTALL) or re.search(r"<body.*", text, re.DOTALL)
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main.group(0) if main else text))
    return f"{response.status_code} {response.url}: {words.strip()[:limit]}"


def log_in(session: requests.Session, base_url: str, username: str, password: str, code=None):
    """Log a staff member in through the real pages: password, then (if asked) the code.

    `code` is a function giving the authenticator app's current code.
    """
    login_url = f"{base_url}/admin/login/"
    page = session.get(login_url, timeout=30)
    response = session.post(
        login_url,
        data={
            "csrfmiddlewaretoken": csrf_token(page.text),
            "username": username,
            "password": password,
            "next": "/admin/",
        },
        headers={"Referer": login_url},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, f"{username}: password refused:\n{page_text(response)}"
    next_url = urljoin(login_url, response.headers["Location"])
    if "/two-factor/code/" in next_url:
        assert code is not None, f"{username} was asked for a code"
        page = session.get(next_url, timeout=30)
        response = session.post(
            next_url,
            data={"csrfmiddlewaretoken": csrf_token(page.text), "code": code()},
            headers={"Referer": next_url},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 302, f"{username}: code refused:\n{page_text(response)}"
        next_url = urljoin(login_url, response.headers["Location"])
    assert next_url.endswith("/admin/"), f"{username} did not reach the admin: {next_url}"

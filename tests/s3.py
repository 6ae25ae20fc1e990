"""A real S3 API on localhost for the storage tests: moto in server mode.

`s3_server()` starts one `moto_server` for the test process (or uses the one at
S3_TEST_ENDPOINT, which `.ci/run` starts), and `s3_storages(endpoint, prefix)` gives
the STORAGES setting that puts public media and patients' files in two new buckets
there, as the production settings do from S3_* variables.
"""

import atexit
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import boto3
from botocore.config import Config

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "eu-north-1"

_server: dict[str, object] = {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(endpoint: str) -> bool:
    try:
        with urlopen(f"{endpoint}/moto-api/", timeout=1):
            return True
    except (URLError, OSError):
        return False


def s3_server() -> str:
    """The endpoint of a running S3 server (started once per test process)."""
    if endpoint := os.environ.get("S3_TEST_ENDPOINT"):
        return endpoint.rstrip("/")
    if "endpoint" in _server:
        return _server["endpoint"]
    moto = Path(sys.executable).with_name("moto_server")
    for _attempt in range(3):  # another process may take the free port first
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(endpoint):
                _server.update(endpoint=endpoint, process=process)
                atexit.register(stop_s3_server)
                return endpoint
            time.sleep(0.1)
        process.kill()
    raise RuntimeError("moto_server did not start")


def stop_s3_server() -> None:
    """Stop the server `s3_server()` started (it is stopped at exit anyway)."""
    process = _server.pop("process", None)
    _server.pop("endpoint", None)
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


def client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}),
    )


def make_bucket(endpoint: str, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    client(endpoint).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name


def keys(endpoint: str, bucket: str) -> list[str]:
    """Every object's key in the bucket, sorted."""
    pages = client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def environment(endpoint: str, public_bucket: str, private_bucket: str) -> dict[str, str]:
    """The S3_* variables the production settings read (clinic/settings/base.py)."""
    return {
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "S3_ADDRESSING_STYLE": "path",
        "S3_PUBLIC_BUCKET": public_bucket,
        "S3_PUBLIC_PROTOCOL": "http:",
        "S3_PRIVATE_BUCKET": private_bucket,
    }


def s3_storages(endpoint: str, public_bucket: str, private_bucket: str) -> dict:
    """STORAGES as clinic/settings/base.py builds it from `environment(...)`."""
    common = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "file_overwrite": False,
        "addressing_style": "path",
    }
    return {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**common, "bucket_name": public_bucket, "querystring_auth": False},
        },
        "private": {
            "BACKEND": "booking.storage.PrivateS3Storage",
            "OPTIONS": {
                **common,
                "bucket_name": private_bucket,
                "object_parameters": {"ServerSideEncryption": "AES256"},
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

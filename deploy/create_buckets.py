"""Create the two buckets the S3_* settings name, if they are missing (docs/deploy.md).

    python deploy/create_buckets.py

Reads the same variables as the site: S3_ENDPOINT_URL, S3_REGION, S3_ACCESS_KEY_ID,
S3_SECRET_ACCESS_KEY, S3_PUBLIC_BUCKET, S3_PRIVATE_BUCKET and S3_PRIVATE_ENCRYPTION
(with S3_PRIVATE_KMS_KEY_ID). The public bucket gets a policy that lets anyone read its
objects (editors' images, linked from the pages by their plain address) and nothing else;
the private bucket gets default encryption at rest and stays closed. Run once per
site, e.g. by the compose file's `buckets` service; it waits for the endpoint to answer.
Existing buckets keep their settings: only missing ones are made.
"""

import json
import os
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

WAIT_SECONDS = 60


def public_read_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicReadObjects",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


def default_encryption(algorithm: str, kms_key_id: str) -> dict:
    rule = {"SSEAlgorithm": algorithm}
    if kms_key_id:
        rule["KMSMasterKeyID"] = kms_key_id
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]}


def s3_client(env):
    return boto3.client(
        "s3",
        endpoint_url=env.get("S3_ENDPOINT_URL") or None,
        region_name=env.get("S3_REGION") or None,
        aws_access_key_id=env.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=env.get("S3_SECRET_ACCESS_KEY") or None,
        config=Config(s3={"addressing_style": env.get("S3_ADDRESSING_STYLE") or "auto"}),
    )


def exists(client, bucket: str) -> bool:
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


def wait_for_endpoint(client, bucket: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            exists(client, bucket)
            return
        except EndpointConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def create(client, bucket: str, region: str) -> None:
    options = {"Bucket": bucket}
    if region and region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**options)


def create_buckets(env) -> list[str]:
    """Make whichever of the two buckets is missing; returns the names made."""
    public, private = env.get("S3_PUBLIC_BUCKET"), env.get("S3_PRIVATE_BUCKET")
    if not (public and private):
        raise SystemExit("Set S3_PUBLIC_BUCKET and S3_PRIVATE_BUCKET.")
    client = s3_client(env)
    region = env.get("S3_REGION", "")
    wait_for_endpoint(client, public)
    made = []
    if not exists(client, public):
        create(client, public, region)
        client.put_bucket_policy(Bucket=public, Policy=public_read_policy(public))
        made.append(public)
    if not exists(client, private):
        create(client, private, region)
        client.put_public_access_block(
            Bucket=private,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        client.put_bucket_encryption(
            Bucket=private,
            ServerSideEncryptionConfiguration=default_encryption(
                env.get("S3_PRIVATE_ENCRYPTION") or "AES256", env.get("S3_PRIVATE_KMS_KEY_ID", "")
            ),
        )
        made.append(private)
    return made


if __name__ == "__main__":
    made = create_buckets(os.environ)
    print("Created: " + ", ".join(made) if made else "Both buckets exist.")

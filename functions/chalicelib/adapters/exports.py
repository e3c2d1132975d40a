"""Exports to the stage's S3 bucket (encrypted, private, expiring after 30 days)."""

from __future__ import annotations

from typing import Any


class S3ExportWriter:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def write(self, key: str, body: bytes, content_type: str) -> str:
        self._client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, ServerSideEncryption="AES256"
        )
        return f"s3://{self.bucket}/{key}"

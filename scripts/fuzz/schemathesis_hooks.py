"""Schemathesis hooks for batchmeta (loaded through SCHEMATHESIS_HOOKS by
scripts/api-fuzz): raw bytes for the Parquet and Arrow uploads, which
schemathesis cannot serialize by itself. The server must answer every such
body with a documented 4xx (or 2xx, if the bytes happen to be valid)."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.transport.serialization import serialize_binary


@schemathesis.serializer("application/vnd.apache.parquet", "application/vnd.apache.arrow.stream")
def raw_bytes(ctx: schemathesis.SerializationContext, value: Any) -> dict[str, Any]:
    return {"data": serialize_binary(value)}

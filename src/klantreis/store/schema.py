"""The canonical tables every backend sees (see docs/ARCHITECTURE in shared/).

Timestamps are stored in UTC; calendar periods are counted in the workspace's time zone.
Events without an id get one at ingest from a hash of the row's content ('h' + 24 hex
digits), so the same row ingested twice is recognised as a duplicate and ties in time
are broken by ``event_id`` deterministically. ``Workspace.events`` and ``.feedback``
show these tables with identities applied (an alias's customer_id is replaced by the
customer it is linked to).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

__all__ = ["CANONICAL", "TABLES", "UTC_TIMESTAMP"]

UTC_TIMESTAMP = dt.Timestamp(timezone="UTC")

TABLES: dict[str, ibis.Schema] = {
    "events": ibis.schema(
        {
            "event_id": dt.String(nullable=False),
            "customer_id": dt.String(nullable=False),
            "timestamp": UTC_TIMESTAMP,
            "touchpoint": dt.string,
            "channel": dt.string,
            "value": dt.float64,
            "properties": dt.string,  # JSON object as text
            "raw_name": dt.string,  # the event name as it was in the source
            "source": dt.string,  # ingest id
            "mapped": dt.boolean,  # touchpoint is defined in the journey
        }
    ),
    "feedback": ibis.schema(
        {
            "feedback_id": dt.String(nullable=False),
            "customer_id": dt.String(nullable=False),
            "timestamp": UTC_TIMESTAMP,
            "touchpoint": dt.string,
            "metric": dt.string,  # nps, csat, ces, emotion
            "score": dt.float64,
            "comment": dt.string,
            "source": dt.string,
        }
    ),
    "customers": ibis.schema(
        {
            "customer_id": dt.String(nullable=False),
            "segment": dt.string,
            "persona": dt.string,
            "attributes": dt.string,  # JSON object as text
            "source": dt.string,
        }
    ),
    "identities": ibis.schema(
        {
            "alias_id": dt.String(nullable=False),  # cookie, device, e-mail hash...
            "customer_id": dt.String(nullable=False),
            "kind": dt.string,
            "source": dt.string,
        }
    ),
    "rejects": ibis.schema(
        {
            "ingest_id": dt.string,
            "file": dt.string,
            "line": dt.int64,
            "kind": dt.string,
            "field": dt.string,
            "reason": dt.string,
            "raw": dt.string,
        }
    ),
    "ingests": ibis.schema(
        {
            "ingest_id": dt.String(nullable=False),
            "file": dt.string,
            "checksum": dt.string,
            "kind": dt.string,
            "read": dt.int64,
            "stored": dt.int64,
            "duplicates": dt.int64,
            "rejected": dt.int64,
            "unmapped": dt.int64,
            "started_at": UTC_TIMESTAMP,
            "finished_at": UTC_TIMESTAMP,
        }
    ),
    # one row per erasure (forget) or retention prune; never the erased ids
    "erasures": ibis.schema(
        {
            "erasure_id": dt.String(nullable=False),
            "action": dt.string,  # forget or prune
            "at": UTC_TIMESTAMP,
            "rows": dt.string,  # JSON: table -> rows removed
            "total": dt.int64,
        }
    ),
}

#: Tables users ingest into (kinds of ``klantreis ingest --kind``).
CANONICAL = ("events", "feedback", "customers", "identities")

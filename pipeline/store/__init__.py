"""The event store: an embedded SQLite file per site, written in batches, read by analytics."""

from .contacts import Contact, ContactAccumulator
from .db import ContactRows, EventStore, StoreError, open_store
from .sink import StoreSink
from .writer import StoreWriter

__all__ = [
    "Contact",
    "ContactAccumulator",
    "ContactRows",
    "EventStore",
    "StoreError",
    "StoreSink",
    "StoreWriter",
    "open_store",
]

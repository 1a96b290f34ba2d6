"""The store: the workspace folder, readers, mapping, ingest and privacy."""

from klantreis.store.workspace import Workspace, init_workspace, open_workspace

__all__ = ["Workspace", "init_workspace", "open_workspace"]

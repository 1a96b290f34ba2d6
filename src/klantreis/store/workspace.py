"""The workspace: a folder with settings, journey files, data and the store.

    DIR/
      klantreis.toml     settings (see klantreis.settings)
      journeys/*.yaml    journey maps (journey as code)
      data/              files users bring
      klantreis.duckdb   the store (default backend)

Only this package opens backend connections; everything else receives Ibis tables.
The connection is made lazily, on first use.

    >>> import tempfile
    >>> ws = init_workspace(tempfile.mkdtemp() + "/ws", template="blank", lang="nl")
    >>> ws.settings.language, [j.key for j in ws.journeys()]
    ('nl', ['klantreis'])
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klantreis.errors import (
    ConfigError,
    JourneyError,
    UnknownKey,
    WorkspaceError,
    WorkspaceNotFound,
)
from klantreis.i18n import t
from klantreis.settings import CONFIG_FILE, Settings, write_settings

if TYPE_CHECKING:
    import ibis
    from ibis.backends import BaseBackend

    from klantreis.model.journey import Journey
    from klantreis.store.ingest import IngestSummary

__all__ = ["TEMPLATES", "Workspace", "init_workspace", "open_workspace", "resolve_workspace_path"]

TEMPLATES = ("blank", "fitness", "retail")
JOURNEYS_DIR = "journeys"
DATA_DIR = "data"


def resolve_workspace_path(path: str | os.PathLike[str] | None) -> Path:
    """The workspace folder: the argument, else $KLANTREIS_WORKSPACE, else the current folder."""
    if path is None:
        path = os.environ.get("KLANTREIS_WORKSPACE") or "."
    return Path(path).expanduser()


class Workspace:
    """A journey workspace. Open with :func:`open_workspace`."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.settings = settings
        self._con: BaseBackend | None = None
        self._read_only = False
        #: seconds a connection waits while another process writes the store
        self.lock_timeout = 30.0
        self._journeys: dict[str, Journey] | None = None
        #: derived tables of the current connection (see klantreis.store.derived)
        self._derived: dict[str, ibis.Table] = {}

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r}, language={self.settings.language!r})"

    # -- journeys --------------------------------------------------------------
    @property
    def journeys_dir(self) -> Path:
        return self.path / JOURNEYS_DIR

    @property
    def data_dir(self) -> Path:
        return self.path / DATA_DIR

    def journey_files(self) -> list[Path]:
        return sorted(self.journeys_dir.glob("*.yaml")) + sorted(self.journeys_dir.glob("*.yml"))

    def journeys(self) -> list[Journey]:
        """All journeys of the workspace, validated (JourneyInvalid on the first bad file)."""
        if self._journeys is None:
            from klantreis.model.io import load_journey

            loaded: dict[str, Journey] = {}
            for file in self.journey_files():
                journey = load_journey(file, lang=self.settings.language)
                if journey.key in loaded:
                    raise JourneyError(
                        t(
                            "store.journey.duplicate",
                            self.settings.language,
                            file=str(file),
                            key=journey.key,
                            other=str(loaded[journey.key].path),
                        )
                    )
                loaded[journey.key] = journey
            self._journeys = loaded
        return list(self._journeys.values())

    def journey(self, key: str | None = None) -> Journey:
        """One journey: by key, else the workspace's default, else the only one."""
        journeys = {j.key: j for j in self.journeys()}
        key = key or self.settings.journey or None
        if key is not None:
            if key not in journeys:
                raise UnknownKey("journey", key, journeys)
            return journeys[key]
        if not journeys:
            lang = self.settings.language
            raise WorkspaceError(
                t("store.journey.none", lang, folder=str(self.path), dir=JOURNEYS_DIR),
                hint=t("store.journey.none.hint", lang),
            )
        if len(journeys) > 1:
            lang = self.settings.language
            raise WorkspaceError(
                t(
                    "store.journey.several",
                    lang,
                    folder=str(self.path),
                    keys=", ".join(sorted(journeys)),
                ),
                hint=t("store.journey.several.hint", lang),
            )
        return next(iter(journeys.values()))

    def reload(self) -> None:
        """Forget loaded journeys (after the files changed)."""
        self._journeys = None

    # -- the store ---------------------------------------------------------------
    @property
    def backend_url(self) -> str:
        url = self.settings.backend
        url = url.reveal() if hasattr(url, "reveal") else str(url)
        return url

    def connect(self) -> BaseBackend:
        """The Ibis backend of this workspace (connected on first use).

        A DuckDB store is opened read-write when it can be; when another process has it
        open, read-only (so readers coexist); while a writer commits, the open waits up
        to ``lock_timeout`` seconds and then fails naming the writer.
        """
        if self._con is None:
            self._con, self._read_only = _connect(
                self.backend_url,
                self.path,
                self.settings.timezone,
                self.lock_timeout,
                lang=self.settings.language,
            )
            if not self._read_only:
                _create_tables(self._con)
        return self._con

    @property
    def con(self) -> BaseBackend:
        return self.connect()

    @property
    def read_only(self) -> bool:
        """Whether the current connection is read-only (another process has the store)."""
        self.connect()
        return self._read_only

    def writer(self) -> Any:
        """The raw DuckDB connection, read-write (reconnecting if it was read-only).

        Callers hold :func:`klantreis.store.lock.writer_lock` first.
        """
        if not self.backend_url.startswith("duckdb://"):
            from klantreis.errors import ConfigError

            lang = self.settings.language
            raise ConfigError(
                t("store.writer.duckdb_only", lang, backend=self.backend_url.split(":")[0]),
                key="backend",
                hint=t("store.writer.duckdb_only.hint", lang),
            )
        self._derived.clear()  # the caller is about to change the data
        if self._con is not None and self._read_only:
            self.close()
        if self._con is None:
            self._con, self._read_only = _connect(
                self.backend_url,
                self.path,
                self.settings.timezone,
                self.lock_timeout,
                write=True,
                lang=self.settings.language,
            )
            _create_tables(self._con)
        return self._con.con  # type: ignore[attr-defined]

    def table(self, name: str) -> ibis.Table:
        """A canonical base table as an Ibis expression (created empty if missing)."""
        from klantreis.store.schema import TABLES

        if name not in TABLES:
            raise UnknownKey("table", name, TABLES)
        con = self.connect()
        if name not in _table_names(con):
            con.create_table(name, schema=TABLES[name], temp=self._read_only)
        return con.table(name)

    def _stitched(self, name: str) -> ibis.Table:
        """``name`` with identities applied: an alias's customer_id becomes its customer's."""
        import ibis

        base = self.table(name)
        ids = self.table("identities")
        if int(ids.count().execute()) == 0:
            # Nothing to stitch: skip the join (it sits under every window over all
            # events; about 0.4 s on 10M). A view keeps each call its own relation.
            return base.view()
        links = ids.select(_alias_id=ids.alias_id, _linked_id=ids.customer_id)
        joined = base.left_join(links, base.customer_id == links._alias_id)
        return joined.select(
            *[
                ibis.coalesce(joined._linked_id, joined.customer_id).name("customer_id")
                if col == "customer_id"
                else joined[col]
                for col in base.columns
            ]
        )

    def derived(
        self,
        name: str,
        build: Any,
        *,
        version: int,
        reads: tuple[str, ...] = ("events", "identities"),
        extra: str = "",
    ) -> ibis.Table:
        """A derived table (an index built from the canonical tables), cached in the store.

        See :mod:`klantreis.store.derived`: ``build()`` returns the Ibis expression, run
        once per change of the data.
        """
        from klantreis.store.derived import derived_table

        return derived_table(self, name, build, version=version, reads=reads, extra=extra)

    @property
    def events(self) -> ibis.Table:
        """Events, identities applied (see :meth:`_stitched`)."""
        return self._stitched("events")

    @property
    def feedback(self) -> ibis.Table:
        """Feedback, identities applied."""
        return self._stitched("feedback")

    @property
    def customers(self) -> ibis.Table:
        return self.table("customers")

    @property
    def identities(self) -> ibis.Table:
        return self.table("identities")

    @property
    def rejects(self) -> ibis.Table:
        return self.table("rejects")

    @property
    def ingests(self) -> ibis.Table:
        return self.table("ingests")

    # -- writing -----------------------------------------------------------------------
    def ingest(
        self,
        path: str | os.PathLike[str],
        *,
        kind: str = "events",
        mapping: Any = None,
        **options: Any,
    ) -> IngestSummary:
        """Ingest a file (CSV/TSV, xlsx, JSON Lines, Parquet file or folder).

        ``mapping`` is a mapping file path, a dict in the same shape, or None (canonical
        column names). ``options``: dry_run, timezone, pseudonymise, journey, progress,
        and reader overrides (format, delimiter, quote, encoding, decimal, date_format,
        sheet). Returns the summary (read = stored + duplicates + rejected).
        """
        from klantreis.store.ingest import ingest
        from klantreis.store.readers import ReadOptions

        reader = {k: options.pop(k) for k in list(options) if k in ReadOptions.__dataclass_fields__}
        return ingest(
            self, Path(path), kind=kind, mapping=mapping, options=ReadOptions(**reader), **options
        )

    def forget(self, customer_id: str) -> dict[str, int]:
        """Erase every row of one customer (see :mod:`klantreis.store.privacy`)."""
        from klantreis.store.privacy import forget

        return forget(self, customer_id)

    def prune(self, older_than: str) -> dict[str, int]:
        """Delete events and feedback older than ``older_than`` ('24m' = 24 months)."""
        from klantreis.store.privacy import prune

        return prune(self, older_than)

    def link(self, alias_id: str, customer_id: str, kind: str | None = None) -> None:
        """Link an alias (cookie, device, e-mail hash) to a customer; replaces an earlier link."""
        from klantreis.store.derived import invalidate
        from klantreis.store.lock import writer_lock
        from klantreis.store.privacy import pseudonym

        alias = pseudonym(self.path, alias_id) or alias_id
        customer = pseudonym(self.path, customer_id) or customer_id
        with writer_lock(self.path, f"link {kind or ''}"):
            con = self.writer()
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM identities WHERE alias_id = $a", {"a": alias})
            con.execute(
                "INSERT INTO identities VALUES ($a, $c, $k, 'link')",
                {"a": alias, "c": customer, "k": kind},
            )
            invalidate(con)
            con.execute("COMMIT")

    def unlink(self, alias_id: str) -> int:
        """Remove the link of an alias; its events return to the alias's own journey."""
        from klantreis.store.derived import invalidate
        from klantreis.store.lock import writer_lock
        from klantreis.store.privacy import pseudonym

        alias = pseudonym(self.path, alias_id) or alias_id
        with writer_lock(self.path, "unlink"):
            con = self.writer()
            con.execute("BEGIN TRANSACTION")
            removed = con.execute("DELETE FROM identities WHERE alias_id = $a", {"a": alias})
            count = int(removed.fetchone()[0])
            invalidate(con)
            con.execute("COMMIT")
            return count

    def close(self) -> None:
        """Close the store connection (it reopens on next use).

        A PySpark backend is the user's own SparkSession: it is left running.
        """
        self._derived.clear()
        if self._con is not None:
            try:
                if getattr(self._con, "name", "") != "pyspark":
                    self._con.disconnect()
            finally:
                self._con = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _table_names(con: BaseBackend) -> set[str]:
    raw = getattr(con, "con", None)
    if raw is not None and hasattr(raw, "execute"):  # DuckDB: ask directly (cheap)
        return {
            r[0] for r in raw.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    return set(con.list_tables())


def _create_tables(con: BaseBackend) -> None:
    from klantreis.store.schema import TABLES

    existing = _table_names(con)
    for name, schema in TABLES.items():
        if name not in existing:
            con.create_table(name, schema=schema)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def _connect(
    url: str,
    folder: Path,
    timezone: str,
    timeout: float = 30.0,
    *,
    write: bool = False,
    lang: str | None = None,
) -> tuple[BaseBackend, bool]:
    """(connection, read_only); messages in ``lang``."""
    import ibis

    if url.startswith("duckdb://"):
        import time

        target = url.removeprefix("duckdb://")
        database = ":memory:"
        if target not in ("", ":memory:"):
            path = Path(target)
            database = str(path if path.is_absolute() else folder / path)
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            modes = (False,) if write or database == ":memory:" else (False, True)
            last: Exception | None = None
            for read_only in modes:
                if read_only and not Path(database).exists():
                    continue
                try:
                    con = ibis.duckdb.connect(database, read_only=read_only)
                except Exception as exc:
                    if not _is_lock_error(exc):
                        raise
                    last = exc
                    continue
                raw = con.con
                raw.execute("SET enable_progress_bar = false")
                # Calendar periods are counted in the workspace's zone (a bound parameter).
                raw.execute("SET TimeZone = ?", [timezone])
                return con, read_only
            if time.monotonic() >= deadline:
                from klantreis.errors import WorkspaceLocked
                from klantreis.store.lock import describe, holder

                info = holder(folder)
                who = describe(info, lang) if info else str(last).split("\n")[0]
                raise WorkspaceLocked(
                    t("store.busy", lang, folder=str(folder), holder=who),
                    hint=t("store.locked.hint", lang),
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    try:
        return ibis.connect(url), False
    except Exception as exc:
        raise ConfigError(t("store.backend.connect", lang, error=exc), key="backend") from None


def open_workspace(path: str | os.PathLike[str] | None = None, **flags: Any) -> Workspace:
    """Open an existing workspace folder (see :func:`resolve_workspace_path`)."""
    folder = resolve_workspace_path(path)
    if not (folder / CONFIG_FILE).is_file():
        raise WorkspaceNotFound(
            t("store.workspace.missing", None, folder=str(folder), file=CONFIG_FILE),
            hint=t("store.workspace.missing.hint", None, folder=str(folder)),
        )
    return Workspace(folder.resolve(), Settings.load(folder, flags))


def init_workspace(
    path: str | os.PathLike[str],
    *,
    template: str = "blank",
    lang: str = "en",
    timezone: str | None = None,
) -> Workspace:
    """Create a workspace folder from a template ('blank', 'fitness' or 'retail')."""
    from klantreis.i18n import check_language

    if template not in TEMPLATES:
        from klantreis.errors import InvalidSpec

        raise InvalidSpec("template", "unknown template", value=template, allowed=TEMPLATES)
    lang = check_language(lang)
    folder = Path(path).expanduser()
    if (folder / CONFIG_FILE).exists():
        raise WorkspaceError(
            t("store.workspace.exists", lang, folder=str(folder)),
            hint=t("store.workspace.exists.hint", lang),
        )
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(t("store.workspace.not_folder", lang, folder=str(folder)))
    values: dict[str, Any] = {"language": lang}
    if timezone is not None:
        values["timezone"] = timezone
    Settings.resolve(values, env={})  # check before writing anything
    (folder / JOURNEYS_DIR).mkdir(parents=True, exist_ok=True)
    (folder / DATA_DIR).mkdir(exist_ok=True)
    source = resources.files("klantreis.model").joinpath("templates", f"{template}.yaml")
    target = (
        folder / JOURNEYS_DIR / ("klantreis.yaml" if template == "blank" else f"{template}.yaml")
    )
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    write_settings(folder, values)
    return open_workspace(folder)

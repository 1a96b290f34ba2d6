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

from klantreis.errors import ConfigError, JourneyError, UnknownKey, WorkspaceError, WorkspaceNotFound
from klantreis.settings import CONFIG_FILE, Settings, write_settings

if TYPE_CHECKING:
    import ibis
    from ibis.backends import BaseBackend

    from klantreis.model.journey import Journey

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
        self._journeys: dict[str, Journey] | None = None

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
        """All journeys of the workspace, validated (raises JourneyInvalid on the first bad file)."""
        if self._journeys is None:
            from klantreis.model.io import load_journey

            loaded: dict[str, Journey] = {}
            for file in self.journey_files():
                journey = load_journey(file, lang=self.settings.language)
                if journey.key in loaded:
                    raise JourneyError(
                        f"{file}: journey key '{journey.key}' is also used by "
                        f"{loaded[journey.key].path}; give each journey its own key"
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
            raise WorkspaceError(
                f"workspace {self.path} has no journey files in {JOURNEYS_DIR}/",
                hint="run 'klantreis init' or add a journey YAML file",
            )
        if len(journeys) > 1:
            raise WorkspaceError(
                f"workspace {self.path} has several journeys ({', '.join(sorted(journeys))})",
                hint="choose one with --journey KEY or set 'journey' in klantreis.toml",
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
        """The Ibis backend of this workspace (connected on first use)."""
        if self._con is None:
            self._con = _connect(self.backend_url, self.path, self.settings.timezone)
        return self._con

    @property
    def con(self) -> BaseBackend:
        return self.connect()

    def table(self, name: str) -> ibis.Table:
        """A canonical table as an Ibis expression (created empty if missing)."""
        from klantreis.store.schema import TABLES

        if name not in TABLES:
            raise UnknownKey("table", name, TABLES)
        con = self.connect()
        if name not in con.list_tables():
            con.create_table(name, schema=TABLES[name])
        return con.table(name)

    @property
    def events(self) -> ibis.Table:
        return self.table("events")

    @property
    def feedback(self) -> ibis.Table:
        return self.table("feedback")

    @property
    def customers(self) -> ibis.Table:
        return self.table("customers")

    @property
    def rejects(self) -> ibis.Table:
        return self.table("rejects")

    def close(self) -> None:
        if self._con is not None:
            try:
                self._con.disconnect()
            finally:
                self._con = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _connect(url: str, folder: Path, timezone: str) -> BaseBackend:
    import ibis

    if url.startswith("duckdb://"):
        target = url.removeprefix("duckdb://")
        database = ":memory:"
        if target not in ("", ":memory:"):
            path = Path(target)
            database = str(path if path.is_absolute() else folder / path)
        con = ibis.duckdb.connect(database)
        # Calendar periods are counted in the workspace's zone (a bound parameter).
        con.con.execute("SET TimeZone = ?", [timezone])
        return con
    try:
        return ibis.connect(url)
    except Exception as exc:  # noqa: BLE001 - any driver error becomes a user message
        raise ConfigError(f"cannot connect to backend: {exc}", key="backend") from None


def open_workspace(
    path: str | os.PathLike[str] | None = None, **flags: Any
) -> Workspace:
    """Open an existing workspace folder (see :func:`resolve_workspace_path`)."""
    folder = resolve_workspace_path(path)
    if not (folder / CONFIG_FILE).is_file():
        raise WorkspaceNotFound(
            f"{folder} is not a Klantreis workspace (no {CONFIG_FILE})",
            hint=f"create one with 'klantreis init {folder}' or pass --workspace DIR",
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
            f"{folder} is already a workspace",
            hint="choose another folder, or remove its klantreis.toml to start over",
        )
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(f"{folder} exists and is not a folder")
    values: dict[str, Any] = {"language": lang}
    if timezone is not None:
        values["timezone"] = timezone
    Settings.resolve(values, env={})  # check before writing anything
    (folder / JOURNEYS_DIR).mkdir(parents=True, exist_ok=True)
    (folder / DATA_DIR).mkdir(exist_ok=True)
    source = resources.files("klantreis.model").joinpath("templates", f"{template}.yaml")
    target = folder / JOURNEYS_DIR / ("klantreis.yaml" if template == "blank" else f"{template}.yaml")
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    write_settings(folder, values)
    return open_workspace(folder)

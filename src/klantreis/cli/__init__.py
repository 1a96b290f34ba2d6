"""The command line: thin modules, one per noun, over the public library.

``main()`` is the console entry point: it turns every :class:`KlantreisError` into a
one-line message on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import sys

# Command modules register their commands on ``app`` when imported; --help lists them
# in this order, so the order is kept by hand.
# isort: off
from klantreis.cli import workspace  # noqa: F401
from klantreis.cli import ingest  # noqa: F401
from klantreis.cli import funnel  # noqa: F401
from klantreis.cli import paths  # noqa: F401
from klantreis.cli import loyalty  # noqa: F401
from klantreis.cli import experience  # noqa: F401
from klantreis.cli import attribution  # noqa: F401
from klantreis.cli import simulate  # noqa: F401
from klantreis.cli import render  # noqa: F401
from klantreis.cli import web  # noqa: F401
from klantreis.cli import demo  # noqa: F401

# isort: on
from klantreis.cli._app import app

__all__ = ["app", "main"]

EXIT_CODES = {"workspace.locked": 3}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 user error, 2 usage error, 3 locked)."""
    from klantreis.errors import KlantreisError

    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        rc = app(args=argv, prog_name="klantreis", standalone_mode=False)
    except KlantreisError as exc:
        from klantreis.cli._common import err_console

        err_console.print(f"klantreis: {exc}", markup=False)
        return EXIT_CODES.get(exc.code, 1)
    except SystemExit as exc:  # typer.Exit inside commands
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors and aborts
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        if isinstance(exc, click.Abort):
            return 130
        raise
    return rc if isinstance(rc, int) else 0


def run() -> None:  # pragma: no cover - console script
    sys.exit(main())

"""Regenerate docs/journey.schema.json from the journey model.

.venv/bin/python scripts/journey_schema.py          # write the file
.venv/bin/python scripts/journey_schema.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from klantreis.model.schema import journey_schema_text

TARGET = Path(__file__).resolve().parent.parent / "docs" / "journey.schema.json"


def main(argv: list[str]) -> int:
    text = journey_schema_text()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run scripts/journey_schema.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

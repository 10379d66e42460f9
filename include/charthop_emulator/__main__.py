"""Entry point for ``python -m charthop_emulator`` and ``python include/charthop_emulator``."""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:
    # Run as a directory (python include/charthop_emulator): make the package importable by name.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from charthop_emulator.cli import main  # noqa: E402 - needs the path set above

if __name__ == "__main__":
    sys.exit(main())

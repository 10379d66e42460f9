"""Local emulator of the ChartHop REST API (read endpoints, fault injection) for demos and tests.

Start it with ``python -m charthop_emulator`` (with ``include/`` on PYTHONPATH) or in-process with
:func:`charthop_emulator.server.start_in_thread`.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"

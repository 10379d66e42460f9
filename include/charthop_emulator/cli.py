"""Command line: generate the org, serve it, print one JSON "ready" line, stop on SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from datetime import date, datetime, timezone
from types import FrameType

from charthop_emulator.faults import FaultError, parse_faults
from charthop_emulator.imports import DEFAULT_IMPORT_SECONDS, IMPORT_MODES, make_settings
from charthop_emulator.org import Org, default_org_id, generate_org
from charthop_emulator.server import DEFAULT_TOKEN, EmulatorState, create_server
from charthop_emulator.webhooks import DEFAULT_APP_NAME, WebhookConfigError, WebhookDispatcher, parse_config

logger = logging.getLogger("charthop_emulator")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: expected YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m charthop_emulator",
        description="Serve a generated ChartHop org over HTTP for demos and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8377, help="TCP port; 0 picks a free port (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=2000,
                        help="number of jobs, open or filled, that exist on the current date (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generated org (default: %(default)s)")
    parser.add_argument("--today", type=_iso_date, default=None,
                        help="the emulator's current date, YYYY-MM-DD (default: today's UTC date)")
    parser.add_argument("--org-id", default=None, help="24-hex org id (default: derived from the seed)")
    parser.add_argument("--org-slug", default="acme", help="org slug, accepted in place of the id (default: %(default)s)")
    parser.add_argument("--token", default=DEFAULT_TOKEN,
                        help="the API token with every permission (default: %(default)s)")
    parser.add_argument("--fault", action="append", default=[], metavar="JSON",
                        help="a fault object (or list) as accepted by POST /_emulator/faults; repeatable")
    parser.add_argument("--import-seconds", type=float, default=DEFAULT_IMPORT_SECONDS,
                        help="seconds an importDataCsv process takes from PENDING to DONE or ERROR; 0 finishes "
                             "it on the first read (default: %(default)s)")
    parser.add_argument("--import-mode", choices=IMPORT_MODES, default="normal",
                        help="how imports end: normal, reject_file, bad_row or never_finish (default: %(default)s)")
    parser.add_argument("--webhook-url", default=None,
                        help="URL that receives the event notifications by POST (default: webhooks off)")
    parser.add_argument("--webhook-secret", default=None,
                        help="secret for the base64 HMAC-SHA256 signature header of each delivery (default: unsigned)")
    parser.add_argument("--app-name", default=DEFAULT_APP_NAME,
                        help="installed app name, used in the Sync Now event process.create.<name> "
                             "(default: %(default)s)")
    parser.add_argument("--log-level", default="INFO", help="level of the log on stderr (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGTERM or SIGINT; return the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        faults = [fault for raw in args.fault for fault in parse_faults(json.loads(raw))]
    except (json.JSONDecodeError, FaultError) as error:
        print(f"invalid --fault: {error}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"invalid --jobs {args.jobs}: expected at least 1", file=sys.stderr)
        return 2
    try:
        import_settings = make_settings(args.import_seconds, args.import_mode)
    except ValueError as error:
        print(f"invalid --import-seconds or --import-mode: {error}", file=sys.stderr)
        return 2
    webhook_config = None
    if args.webhook_url is not None:
        try:
            webhook_config = parse_config({"url": args.webhook_url, "secret": args.webhook_secret,
                                           "app_name": args.app_name})
        except WebhookConfigError as error:
            print(f"invalid --webhook-url, --webhook-secret or --app-name: {error}", file=sys.stderr)
            return 2

    today = args.today or datetime.now(timezone.utc).date()
    started = time.monotonic()
    org = generate_org(args.jobs, args.seed, today, args.org_id or default_org_id(args.seed), args.org_slug)
    logger.info("Generated org %s: %d jobs today, %d jobs and %d people in total, in %.2f s",
                org.slug, args.jobs, len(org.jobs), len(org.persons), time.monotonic() - started)
    org_id = org.id

    def regenerate() -> Org:
        return generate_org(args.jobs, args.seed, today, org_id, args.org_slug)

    state = EmulatorState(org=org, token=args.token, import_settings=import_settings,
                          webhooks=WebhookDispatcher(webhook_config, app_name=args.app_name), regenerate=regenerate)
    state.faults.replace(faults)
    try:
        server = create_server(state, args.host, args.port)
    except OSError as error:
        logger.error("Cannot listen on %s:%s: %s", args.host, args.port, error)
        return 1

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("Received signal %d, stopping", signum)
        # shutdown() waits for serve_forever to return, so it must run outside this (main) thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    ready = {"event": "ready", "url": server.url, "org_id": org.id, "org_slug": org.slug,
             "jobs_today": args.jobs, "today": today.isoformat()}
    print(json.dumps(ready), flush=True)
    logger.info("Listening on %s", server.url)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        logger.info("Stopped")
    return 0

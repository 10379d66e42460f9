#!/usr/bin/env bash
# Install Debian's chromium for the browser test of the Airflow UI (tests/ui) when it is missing.
# It installs only as root on a machine with apt-get. Otherwise it prints why it skipped and exits 0,
# and the browser test skips with a message. The test drives /usr/bin/chromium, so Playwright never
# downloads a browser.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "ensure_chromium: $CHROMIUM is installed."
    exit 0
fi
if [ "$EUID" -ne 0 ]; then
    echo "ensure_chromium: skipped: $CHROMIUM is missing and installing it needs root. The UI test will skip."
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: skipped: $CHROMIUM is missing and apt-get is not available. The UI test will skip."
    exit 0
fi

echo "ensure_chromium: installing Debian's chromium with apt-get."
export DEBIAN_FRONTEND=noninteractive
# --no-install-recommends keeps the install to chromium and its libraries; a plain install also
# upgrades unrelated packages such as systemd.
if apt-get install -y --no-install-recommends chromium; then
    exit 0
fi
# The package lists may be missing or stale on a fresh machine.
if apt-get update && apt-get install -y --no-install-recommends chromium; then
    exit 0
fi
echo "ensure_chromium: installing chromium with apt-get failed (output above). The UI test will skip."

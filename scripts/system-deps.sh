#!/bin/sh
# Install the servers the test run needs (redis-server, PostgreSQL, Chromium, Kannel) when missing.
# Uses apt-get as root, or through sudo; does nothing when everything is there.
set -eu
missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
# Kannel: bearerbox and smsbox in /usr/sbin; fakesmsc (the fake operator) in kannel-extras.
[ -x /usr/sbin/bearerbox ] && [ -x /usr/sbin/smsbox ] || missing="$missing kannel"
[ -x /usr/lib/kannel/test/fakesmsc ] || missing="$missing kannel-extras"
[ -z "$missing" ] && exit 0
echo "Installing:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
# The Debian packages start system-wide servers; the tests start their own on free ports.
$SUDO service redis-server stop >/dev/null 2>&1 || true
$SUDO service postgresql stop >/dev/null 2>&1 || true
$SUDO service kannel stop >/dev/null 2>&1 || true
$SUDO update-rc.d kannel disable >/dev/null 2>&1 || true

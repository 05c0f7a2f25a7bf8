#!/bin/sh
# Back up einstein's PostgreSQL database: every table, the outbox and the sign-in sessions too.
#   scripts/backup.sh [FILE]          (DATABASE_URL from the environment)
# Writes pg_dump's custom format (compressed, restorable table by table) to FILE, by default
# einstein-YYYYmmdd-HHMMSS.dump. Safe while einstein runs: pg_dump reads one consistent snapshot.
set -eu
: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
file=${1:-einstein-$(date -u +%Y%m%d-%H%M%S).dump}
# SQLAlchemy's driver suffix (postgresql+psycopg://) means nothing to libpq.
url=$(printf '%s' "$DATABASE_URL" | sed 's|^postgresql+[a-z0-9]*://|postgresql://|')
pg_dump --format=custom --no-owner --no-privileges --file="$file" "$url"
echo "backed up to $file"

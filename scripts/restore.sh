#!/bin/sh
# Restore a backup made by scripts/backup.sh into an EMPTY database (create it first:
# createdb einstein_restored), all or nothing.
#   DATABASE_URL=postgresql://.../einstein_restored scripts/restore.sh FILE
# Then point einstein at it; `flask db upgrade` brings an older backup up to the current schema.
set -eu
: "${DATABASE_URL:?set DATABASE_URL to the empty database to restore into}"
file=${1:?give the backup file}
url=$(printf '%s' "$DATABASE_URL" | sed 's|^postgresql+[a-z0-9]*://|postgresql://|')
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" "$file"
echo "restored $file"

#!/bin/sh
# make test: the browser and slow tests at the real clock, with coverage, and the other tests once
# at each instant given (see the Makefile's test-clock). The browser and slow tests spend about a
# quarter of the two cores waiting for servers and Chromium, so the instants after the first run
# beside them from the start, one process each; the first instant runs when they have ended, in
# CLOCK_WORKERS processes, adds to their coverage and reports it. The later instants' output is
# printed at the end; the run fails if any part failed.
set -u
python=${PYTHON:-.venv/bin/python}
first=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo 0 >"$dir/later.rc"
if [ $# -gt 0 ]; then
	echo "== the tests at $*, in the background until the end"
	(PYTHON=$python WORKERS=1 ./scripts/test-clock.sh "$@" >"$dir/later.log" 2>&1; echo $? >"$dir/later.rc") &
fi
status=0
"$python" -m pytest --numprocesses "${TEST_WORKERS:-4}" --dist loadgroup -m "browser or slow" --durations 10 \
	--cov=einstein --cov-report= --cov-fail-under=0 || status=1
PYTHON=$python WORKERS=${CLOCK_WORKERS:-2} TEST_COVERAGE=1 ./scripts/test-clock.sh "$first" || status=1
wait
[ -f "$dir/later.log" ] && cat "$dir/later.log"
[ "$(cat "$dir/later.rc")" = 0 ] || status=1
exit $status

#!/bin/sh
# The tests without the browser and the slow runs, once with the clock at each instant given (see
# the Makefile's test-clock), the runs side by side, each in WORKERS processes (pytest-xdist):
# every process has its own servers on its own ports.
# Each run's output is printed when both have ended; the check fails if either failed.
# TEST_COVERAGE=1: the first instant's run adds to the coverage data of the run before it (make test's
# browser and slow tests) and reports the whole, with the slowest tests.
set -u
python=${PYTHON:-.venv/bin/python}
workers=${WORKERS:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
i=0
for instant in "$@"; do
	i=$((i + 1))
	extra=""
	if [ "$i" = 1 ] && [ "${TEST_COVERAGE:-}" = 1 ]; then
		extra="--cov=einstein --cov-append --cov-report=term:skip-covered --durations 15"
	fi
	# shellcheck disable=SC2086 # $extra is several words
	("$python" -m pytest -p no:cacheprovider --numprocesses "$workers" --dist loadgroup -m "not browser and not slow" --clock "$instant" \
		$extra >"$dir/$i.log" 2>&1; echo $? >"$dir/$i.rc") &
done
wait
status=0
i=0
for instant in "$@"; do
	i=$((i + 1))
	echo "== the tests with the clock at $instant in Utrecht"
	cat "$dir/$i.log"
	[ "$(cat "$dir/$i.rc")" = 0 ] || status=1
done
exit $status

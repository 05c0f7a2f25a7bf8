#!/bin/sh
# Print the Python to make the venv with: the newest of 3.13 and 3.12 this machine has (on PATH or
# installed by pyenv, whose shims refuse a version that is not selected), else python3.
# einstein runs on Python 3.11 and newer. On 3.12 and newer coverage measures through
# sys.monitoring (pyproject: [tool.coverage.run] core), which adds about 8 % to the tests' time,
# where 3.11's tracer adds about 50 %: the reason `make test` prefers them.
set -u
root=$(pyenv root 2>/dev/null || true)
# (pyenv's free-threaded builds, 3.13.0t and the like, are left out: not every wheel works there)
installed=$(ls -d "${root:-/nonexistent}"/versions/3.1[32].*[0-9]/bin/python3 2>/dev/null | sort -rV)
for python in python3.13 python3.12 $installed python3; do
	if "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
		echo "$python"
		exit 0
	fi
done
echo python3

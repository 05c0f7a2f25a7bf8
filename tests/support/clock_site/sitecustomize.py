"""Put a Python process started by the tests on the test run's shifted clock (see tests/support/clock.py).

Python imports ``sitecustomize`` at start-up from its path; the tests put this folder on
``PYTHONPATH`` only for the processes that run einstein's code, and only when the clock is shifted.
Forked children (gunicorn and Celery workers) inherit the shifted clock.
"""

import os
import time

_offset = os.environ.get("TEST_CLOCK_OFFSET_SECONDS")
if _offset:
    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
    time.time()  # time-machine's clock starts ticking at its first reading: now, not when einstein first asks

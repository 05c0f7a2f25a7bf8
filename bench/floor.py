"""The floor under einstein's pages, for bench/http.py: einstein as it runs in production with two
routes that do nothing, one for anyone and one that needs a sign-in.

What these cost beyond the hello app is einstein's frame around every page (its middleware, the
security headers, the rate limits, the session cookie, the language, and for the second the
sign-in statement); what a real page costs beyond them is the page's own work.
"""

import os

from flask_login import login_required

from einstein import create_app

os.environ.setdefault("EINSTEIN_ENV", "production")
app = create_app()


@app.get("/_floor/anyone")
def anyone() -> str:
    """Nothing, for anyone."""
    return "ok"


@app.get("/_floor/signed-in")
@login_required
def signed_in() -> str:
    """Nothing, for a signed-in person."""
    return "ok"

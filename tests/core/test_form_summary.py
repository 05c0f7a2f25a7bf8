"""The box that lists a form's problems names them all, in the order the page shows the fields."""

from __future__ import annotations

import re

from flask import render_template_string

from einstein.auth.forms import SignupForm
from einstein.forms import add_error

SUMMARY = '{% from "macros/forms.html" import form_errors %}{{ form_errors(form) }}'


def _anchors(html: str) -> list[str]:
    box = html[html.index('id="form-problem"') :]
    return re.findall(r'<a href="#([a-z_]+)">', box[: box.index("</ul>")])


def test_the_sign_up_page_lists_its_problems_top_to_bottom(client) -> None:
    # the form class declares the contact fields before the name; the page shows the name first
    data = {"name": "", "email": "", "phone": "", "password": "x", "password_again": "y", "locale": "nl"}
    page = client.post("/signup", data=data, headers={"Accept-Language": "en"}).get_data(as_text=True)
    anchors = _anchors(page)
    shown = list(dict.fromkeys(re.findall(r'<(?:input|select)[^>]* id="([a-z_]+)(?:-\d+)?"', page)))
    assert anchors[0] == "name" and "phone" in anchors
    assert anchors == sorted(anchors, key=shown.index)


def test_problems_found_late_are_listed_too(app) -> None:
    with app.test_request_context("/signup", method="POST", data={"name": "", "password": "x"}):
        form = SignupForm(meta={"csrf": False})
        assert not form.validate()
        assert form.errors  # something read the problems already (a view deciding its answer)
        add_error(form.password, "One more problem, found by a service.")
        html = render_template_string(SUMMARY, form=form)
    assert "One more problem, found by a service." in html

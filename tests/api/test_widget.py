"""A partner puts einstein's programme on their website: plain HTML in a frame, no script, no
cookie, nothing from elsewhere; links open einstein in a new tab."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import html5lib
import pytest

from tests.api.conftest import BREAKOUT, PARTICIPANT_NAME
from tests.support.hostile import HOSTILE_LINES

pytestmark = pytest.mark.postgres


class _Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def widget(client: Any, **query: Any) -> Any:
    return client.get("/embed/programme", query_string=query, headers={"Accept-Language": "en"})


def test_the_widget_is_well_formed_html_with_no_script_and_nothing_from_elsewhere(client, programme) -> None:
    answer = widget(client, location=programme["centre"])
    html = answer.get_data(as_text=True)

    assert answer.status_code == 200
    html5lib.HTMLParser(strict=True).parse(html)  # raises on any parse error
    tags = _tags(html)
    assert not [t for t, _ in tags if t in {"script", "iframe", "img", "object", "embed", "form"}]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on") or a == "style"]
    for _tag, attrs in tags:
        for name in ("href", "src"):
            value = attrs.get(name)
            if value:
                assert value.startswith(("/", "http://einstein.test/")), value
    links = [attrs for tag, attrs in tags if tag == "a"]
    assert links and all(a.get("target") == "_blank" and a.get("rel") == "noopener" for a in links)
    assert (
        "link",
        {"rel": "stylesheet", "href": re.search(r'href="(/static/css/embed\.css[^"]*)"', html).group(1)},
    ) in tags


def test_the_widget_shows_what_is_on_at_a_place_and_no_one_who_booked(client, programme) -> None:
    html = widget(client, location=programme["centre"]).get_data(as_text=True)

    assert "Samen wandelen" in html and "Full: waiting list open" in html
    assert BREAKOUT not in html and "Koken &lt;/script&gt;" in html  # escaped, as text
    assert "Zakelijk Engels" not in html  # held at the library
    assert PARTICIPANT_NAME not in html
    assert f"http://einstein.test/offers/{programme['walk']}?lang=en" in html


def test_the_widget_by_theme_and_language(client, programme) -> None:
    html = widget(client, category="language", lang="ar").get_data(as_text=True)

    assert 'lang="ar" dir="rtl"' in html and "الإنجليزية للأعمال" in html
    assert "Samen wandelen" not in html


def test_any_site_may_frame_the_widget_and_no_cookie_is_set(client, programme) -> None:
    answer = widget(client, location=programme["centre"], lang="ar")

    assert "X-Frame-Options" not in answer.headers
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "script-src 'self'" in policy
    assert "Set-Cookie" not in answer.headers
    # every other page still refuses to be framed
    other = client.get("/", headers={"Accept-Language": "en"})
    assert (
        other.headers["X-Frame-Options"] == "DENY"
        and "frame-ancestors 'none'" in other.headers["Content-Security-Policy"]
    )


# every value against one programme (each test's programme takes a while to build); the wrong
# answers are listed together
def test_hostile_values_in_every_parameter_are_a_4xx_or_an_empty_widget(client, programme) -> None:
    wrong = []
    for value in [*HOSTILE_LINES.values(), "0", "-1", str(2**31), str(10**30), "١٢", "²"]:
        for name in ("location", "category", "lang"):
            answer = widget(client, **{name: value})
            if answer.status_code not in (200, 400, 404):
                wrong.append((name, value, answer.status_code))
    assert wrong == []


def test_hostile_values_in_the_apis_parameters_are_a_4xx_never_a_500(client, programme) -> None:
    urls = ["/api/v1/offers", "/api/v1/sessions", "/api/v1/locations", "/api/v1/categories"]
    urls.append(f"/api/v1/offers/{programme['walk']}/sessions")
    wrong = []
    for value in [*HOSTILE_LINES.values(), "0", "-1", str(2**31), "١٢"]:
        for url in urls:
            for name in ("cursor", "limit", "category", "kind", "location", "lang"):
                answer = client.get(url, query_string={name: value})
                if answer.status_code >= 500 or not answer.is_json:
                    wrong.append((url, name, value, answer.status_code))
    assert wrong == []


def test_the_embed_page_gives_the_snippet(client, programme) -> None:
    answer = client.get(
        "/embed",
        query_string={"location": programme["library"], "category": "work", "language": "ar"},
        headers={"Accept-Language": "en"},
    )
    html = answer.get_data(as_text=True)

    assert answer.status_code == 200
    src = f"http://einstein.test/embed/programme?lang=ar&amp;location={programme['library']}&amp;category=work"
    assert f"&lt;iframe src=&#34;{src}&#34;" in html or f'&lt;iframe src="{src}"' in html
    assert f'<iframe src="{src}"' in html  # the preview


def test_a_wrong_choice_on_the_embed_page_is_a_400(client, programme) -> None:
    answer = client.get("/embed", query_string={"location": "999999"}, headers={"Accept-Language": "en"})

    assert answer.status_code == 400

"""Icons: ``icon(name)``, a template global (einstein.templating), points into the versioned sprite,
hides itself from screen readers and names only symbols the sprite has."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from einstein import ROOT, templating
from tests.support.booking import book

SPRITE = ROOT / "static" / "img" / "icons.svg"
USE = re.compile(r'<svg class="icon" aria-hidden="true" focusable="false"><use href="([^"#]*)#([^"]*)"></use></svg>')


def _symbols() -> set[str]:
    return set(re.findall(r'<symbol id="([^"]+)"', SPRITE.read_text()))


def _sprite_url() -> str:
    return f"/static/img/icons.svg?v={hashlib.sha256(SPRITE.read_bytes()).hexdigest()[:12]}"


def test_every_icon_a_template_names_is_in_the_sprite() -> None:
    named = {
        name
        for path in Path(ROOT / "templates").rglob("*.html")
        for name in re.findall(r"\bicon\('([^']+)'\)", path.read_text())
    }
    assert len(named) > 20
    assert named - _symbols() == set()


def test_the_icons_on_signed_in_pages_point_into_the_versioned_sprite(
    app, client, other_client, participant, coordinator, activity
) -> None:
    client.sign_in(participant)
    assert book(client, activity).status_code == 303
    other_client.sign_in(coordinator)
    shown: set[str] = set()
    for browser, path in [
        (client, "/my/bookings"),
        (client, f"/offers/{activity['offer_id']}"),
        (client, "/account"),
        (other_client, "/dashboard"),
        (other_client, "/desk"),
    ]:
        page = browser.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        uses = USE.findall(page)
        assert uses, path
        assert page.count('class="icon"') == len(uses), path  # every icon is whole markup
        assert {href for href, _ in uses} == {_sprite_url()}, path
        shown |= {name for _, name in uses}
    assert {"ticket", "calendar", "close", "chart"} <= shown
    assert shown - _symbols() == set()


def test_an_icon_is_made_once_and_the_kept_ones_are_bounded(app, monkeypatch) -> None:
    made: list[str] = []
    make = templating.icon
    monkeypatch.setattr(templating, "icon", lambda name: made.append(name) or make(name))
    monkeypatch.setattr(templating, "ICONS_KEPT", 2)
    kept = templating.kept_icon
    app.extensions.pop("einstein.icons", None)  # the icons other tests of this process kept
    with app.test_request_context("/"):
        shown = [kept(name) for name in ("ticket", "ticket", "clock", "place", "ticket")]
        assert shown == [make(name) for name in ("ticket", "ticket", "clock", "place", "ticket")]
    # the third name made room by forgetting the first two: "ticket" was made again
    assert made == ["ticket", "clock", "place", "ticket"]


@pytest.mark.parametrize("name", ['"><script>alert(1)</script>', "x' onload='alert(1)", "ticket\u202e"])
def test_an_icons_name_is_escaped(app, name) -> None:
    with app.test_request_context("/"):
        html = str(templating.icon(name))
    assert "<script>" not in html and "'" not in html.replace("&#39;", "")
    assert USE.fullmatch(html)


def test_static_links_and_icons_follow_the_path_einstein_is_served_under(client, participant) -> None:
    # the stylesheet's, the script's and the icons' URLs are kept per process, as the menu's links
    # are: by the path einstein is served under too, or a page under /einstein/ would link to /static/
    client.sign_in(participant)
    for _ in range(2):  # made, then kept
        plain = client.get("/my/bookings").get_data(as_text=True)
        mounted = client.get("/my/bookings", base_url="http://localhost/einstein/").get_data(as_text=True)
        assert '"/static/' in plain and "/einstein/static/" not in plain
        assert '"/einstein/static/' in mounted and '"/static/' not in mounted
        assert {url for url, _name in USE.findall(mounted)} == {"/einstein" + _sprite_url()}

"""The URL builders the tests' apps share build exactly what Werkzeug's own would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import AnyConverter, Map, PathConverter, Rule, UnicodeConverter

from einstein import create_app
from einstein.bounds import IdConverter
from tests.conftest import base_config
from tests.support.routing import SharedBuilderRule


def _sample(converter: Any) -> Any:
    """A value the converter turns into a URL, odd enough to need quoting."""
    if isinstance(converter, IdConverter):
        return 7
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, PathConverter):
        return "a b/ü?c"
    assert type(converter) is UnicodeConverter, f"no sample for {type(converter).__name__}"
    return "x y/ü?&"


def _urls(app: Flask) -> dict[str, list[tuple[str, str] | None]]:
    """Every rule built with sample values, with and without an unknown value."""
    urls = {}
    for rule in app.url_map.iter_rules():
        values = {name: _sample(rule._converters[name]) for name in rule.arguments}
        urls[f"{rule.endpoint} {rule.rule}"] = [rule.build(values), rule.build({**values, "extra": "ä b"})]
    return urls


def test_every_rule_of_the_app_builds_what_werkzeugs_own_builder_builds(tmp_path: Path) -> None:
    assert Flask.url_rule_class is SharedBuilderRule  # as tests/conftest.py sets it
    shared = create_app(base_config(f"sqlite:///{tmp_path}/a.sqlite", tmp_path))
    again = create_app(base_config(f"sqlite:///{tmp_path}/a.sqlite", tmp_path))
    try:
        Flask.url_rule_class = Rule
        own = create_app(base_config(f"sqlite:///{tmp_path}/a.sqlite", tmp_path))
    finally:
        Flask.url_rule_class = SharedBuilderRule

    assert all(type(rule) is Rule for rule in own.url_map.iter_rules())
    assert _urls(shared) == _urls(own) == _urls(again)
    assert len(_urls(own)) > 100
    # the second app compiled nothing: each of its rules took the first app's builders
    pairs = zip(shared.url_map.iter_rules(), again.url_map.iter_rules(), strict=True)
    assert all(first._build.__func__ is second._build.__func__ for first, second in pairs)


def test_a_default_that_fills_the_path_gets_a_builder_of_its_own() -> None:
    first = SharedBuilderRule("/page/<int:number>", endpoint="page", defaults={"number": 1})
    second = SharedBuilderRule("/page/<int:number>", endpoint="page", defaults={"number": 2})
    plain = SharedBuilderRule("/page/<int:number>", endpoint="page")
    Map([first, second, plain])

    assert first.build({}) == ("", "/page/1")
    assert second.build({}) == ("", "/page/2")
    assert plain.build({"number": 3}) == ("", "/page/3")


def test_the_same_rule_on_another_host_or_subdomain_gets_a_builder_of_its_own() -> None:
    on_host = SharedBuilderRule("/a/<name>", endpoint="a", host="one.test")
    other_host = SharedBuilderRule("/a/<name>", endpoint="a", host="two.test")
    Map([on_host, other_host], host_matching=True)
    in_sub = SharedBuilderRule("/a/<name>", endpoint="a", subdomain="sub")
    Map([in_sub], default_subdomain="www")

    assert on_host.build({"name": "x"}) == ("one.test", "/a/x")
    assert other_host.build({"name": "x"}) == ("two.test", "/a/x")
    assert in_sub.build({"name": "x"}) == ("sub", "/a/x")

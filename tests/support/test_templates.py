"""The compiled templates the tests' apps share are reused only where they are the same code."""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment

from tests.support.templates import SharedTemplateCode

TEMPLATE = "{% if x %}\n  <b>{{ x }}</b>\n{% endif %}\n"


class Counting(Environment):
    compiled = 0

    def compile(self, *args: Any, **kwargs: Any) -> Any:
        self.compiled += 1
        return super().compile(*args, **kwargs)


def _env(cache: SharedTemplateCode, templates: dict[str, str], **settings: Any) -> Counting:
    return Counting(loader=DictLoader(templates), bytecode_cache=cache, autoescape=True, **settings)


def test_a_second_environment_set_up_alike_renders_from_the_first_ones_code() -> None:
    cache = SharedTemplateCode()
    first, second = _env(cache, {"t.html": TEMPLATE}), _env(cache, {"t.html": TEMPLATE})

    assert first.get_template("t.html").render(x="<i>") == second.get_template("t.html").render(x="<i>")
    assert (first.compiled, second.compiled) == (1, 0)


def test_an_environment_set_up_otherwise_compiles_its_own() -> None:
    cache = SharedTemplateCode()
    plain = _env(cache, {"t.html": TEMPLATE})
    trimmed = _env(cache, {"t.html": TEMPLATE}, trim_blocks=True, lstrip_blocks=True)
    unescaped = Counting(loader=DictLoader({"t.html": TEMPLATE}), bytecode_cache=cache, autoescape=False)

    assert plain.get_template("t.html").render(x="<i>") == "\n  <b>&lt;i&gt;</b>\n"
    assert trimmed.get_template("t.html").render(x="<i>") == "  <b>&lt;i&gt;</b>\n"
    assert unescaped.get_template("t.html").render(x="<i>") == "\n  <b><i></b>\n"
    assert (plain.compiled, trimmed.compiled, unescaped.compiled) == (1, 1, 1)


def test_a_changed_template_is_compiled_again() -> None:
    cache = SharedTemplateCode()
    _env(cache, {"t.html": TEMPLATE}).get_template("t.html")
    changed = _env(cache, {"t.html": "changed {{ x }}"})

    assert changed.get_template("t.html").render(x=1) == "changed 1"
    assert changed.compiled == 1

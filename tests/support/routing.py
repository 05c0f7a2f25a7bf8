"""URL builders shared by every app one test process builds.

Each test gets an app of its own, and each app compiled a Python function for every URL rule
twice (Werkzeug's ``Rule._compile_builder``: an AST made, fixed up and compiled), about 125
rules a time: a fifth of the CPU the tests without a browser took, measured with py-spy. In
production the app is built once a process, so this is the tests' cost alone, and the tests
keep the rules' builders in memory instead (the ``Flask.url_rule_class`` hook, set in
``tests/conftest.py``).

A builder depends only on what ``_compile_builder`` reads: the rule's text, its parsed parts
(``_trace``, which also reflects the host or subdomain and merged slashes), whether unknown
values are appended as a query string, and the defaults' names with the URL form of any that
fill a part of the path. All of it is the key; the compiled function takes the rule as its
argument, so rules with the same key share it. ``tests/support/test_routing.py`` checks every
rule of the app builds the same URLs either way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import ClassVar

from werkzeug.routing import Rule


class SharedBuilderRule(Rule):
    """A Werkzeug rule whose URL builders are compiled once a process for all rules alike."""

    builders: ClassVar[dict[Hashable, Callable[..., tuple[str, str]]]] = {}

    def builder_key(self, append_unknown: bool) -> Hashable:
        defaults = self.defaults or {}
        baked = tuple(
            (name, self._converters[name].to_url(value) if name in self._converters else None)
            for name, value in defaults.items()
        )
        return (self.rule, tuple(self._trace), append_unknown, baked)

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        key = self.builder_key(append_unknown)
        builder = self.builders.get(key)
        if builder is None:
            builder = self.builders[key] = super()._compile_builder(append_unknown)
        return builder

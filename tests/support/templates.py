"""Compiled templates shared by every app one test process builds.

Each test gets an app of its own, and each app's Jinja environment compiled every template it
rendered again: about a seventh of the CPU the tests without a browser take. Jinja's bytecode
cache (its documented way to keep compiled templates) lets the apps of one process share them.
"""

from __future__ import annotations

from typing import Any

from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket


class SharedTemplateCode(BytecodeCache):
    """Compiled templates in memory, per template source and per environment settings.

    Jinja keys its cache by template name and checks the source; the code also depends on how
    the environment parses and escapes, so those settings are part of the key here: an
    environment set up differently never gets another's code.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    @staticmethod
    def settings(environment: Environment, name: str) -> tuple[Any, ...]:
        autoescape = environment.autoescape
        return (
            environment.block_start_string,
            environment.block_end_string,
            environment.variable_start_string,
            environment.variable_end_string,
            environment.comment_start_string,
            environment.comment_end_string,
            environment.line_statement_prefix,
            environment.line_comment_prefix,
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.newline_sequence,
            environment.keep_trailing_newline,
            environment.optimized,
            environment.finalize is not None,
            tuple(sorted(environment.extensions)),
            autoescape(name) if callable(autoescape) else autoescape,
        )

    def get_bucket(self, environment: Environment, name: str, filename: str | None, source: str) -> Bucket:
        key = self.get_cache_key(name, filename) + repr(self.settings(environment, name))
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


#: The one cache of this test process (see the ``app`` fixture).
TEMPLATE_CODE = SharedTemplateCode()

"""Keeping subscription keys out of the logs.

A key can reach a log line three ways: the ``subscription-key`` query parameter in the
request line of uvicorn's access log (``--access-log``), the ``Ocp-Apim-Subscription-Key``
header quoted in a message, or an exception whose text carries either. ``RedactSecrets`` is a
logging filter that rewrites every record a handler emits (its message, its arguments, which
uvicorn's access formatter reads one by one, and its traceback) with the value replaced by
``REDACTED``. ``rostro serve`` puts it on uvicorn's handlers (``uvicorn_log_config``) and on
the root logger's (``redact_root_handlers``), in the main process and in every worker.
"""

from __future__ import annotations

import copy
import logging
import re

REDACTED = "***"

# The query parameter, also percent-encoded: its dash (parsed as the same name) or the whole
# pair, as in the Studio's sign-in redirect ``next=...%3Fsubscription-key%3D...`` (then the
# value ends at an encoded ``&``); and the header in the forms a message may quote it
# (``name: value``, ``'name': 'value'``, ``name=value``).
_QUERY = re.compile(r"(?i)(subscription(?:-|%2d)key(?:=|%3d))(?:(?!%26)[^&\s\"'#])*")
_HEADER = re.compile(r"(?i)(ocp-apim-subscription-key[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+")


def redact(text: str) -> str:
    """Return ``text`` with every subscription key value (query or header form) replaced."""
    return _HEADER.sub(rf"\1{REDACTED}", _QUERY.sub(rf"\1{REDACTED}", text))


def _redact_value(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """A handler filter: every record leaves with its keys redacted (never dropped)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The arguments one by one first: uvicorn's access formatter reads them so.
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {name: _redact_value(arg) for name, arg in record.args.items()}
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: logging reports it itself
            return True
        if redact(message) != message:  # a key in the format or in an argument's str()
            record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set: format the traceback once, redacted.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def uvicorn_log_config() -> dict:
    """uvicorn's default logging configuration with ``RedactSecrets`` on its handlers (the
    error log and the access log); uvicorn applies it in every worker process."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_secrets")
    return config


def redact_root_handlers() -> None:
    """Put ``RedactSecrets`` on every handler of the root logger (Rostro's own messages)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())

"""Query parameters as Azure reads them: names match case-insensitively, booleans are
``true``/``false`` in any case, an empty value means "not given", and a value that does not
parse is ``400 BadArgument``. Each parameter is declared once (``QueryParam``) and the same
declaration feeds the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from starlette.datastructures import QueryParams

from rostro.api.errors import ApiError, bad_argument, invalid_argument

T = TypeVar("T")


@dataclass(frozen=True)
class QueryParam:
    """One query parameter: ``kind`` is boolean, integer, string or csv; ``enum`` lists the
    accepted strings (matched case-insensitively); integers are checked against
    ``minimum``/``maximum``."""

    name: str
    kind: str
    default: object = None
    description: str = ""
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    invalid_message: str | None = None  # Azure's message when the value does not parse
    range_message: str | None = None  # ... and when an integer is out of range

    def openapi(self) -> dict[str, object]:
        """Return this parameter as an OpenAPI 3 parameter object."""
        schema: dict[str, object]
        if self.kind == "csv":
            schema = {"type": "array", "items": {"type": "string"}}
            if self.enum:
                schema["items"] = {"type": "string", "enum": list(self.enum)}
        else:
            schema = {"type": self.kind}
            if self.enum:
                schema["enum"] = list(self.enum)
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
        if self.default is not None and self.kind != "csv":
            schema["default"] = self.default
        parameter: dict[str, object] = {"name": self.name, "in": "query", "required": False,
                                        "description": self.description, "schema": schema}
        if self.kind == "csv":
            parameter.update(style="form", explode=False)
        return parameter

    def error(self) -> ApiError:
        return bad_argument(self.invalid_message) if self.invalid_message else invalid_argument(self.name)


class Query:
    """A case-insensitive view of the query string (the first occurrence of a name wins)."""

    def __init__(self, params: QueryParams) -> None:
        self._values: dict[str, str] = {}
        for name, value in params.multi_items():
            self._values.setdefault(name.lower(), value)

    def raw(self, name: str) -> str | None:
        """Return the value given for ``name``, or None when absent or empty."""
        value = self._values.get(name.lower())
        return value if value not in (None, "") else None

    def get(self, param: QueryParam) -> object:
        """Return the parsed value of ``param`` (its default when not given)."""
        raw = self.raw(param.name)
        if raw is None:
            return param.default
        if param.kind == "boolean":
            lowered = raw.strip().lower()
            if lowered not in ("true", "false"):
                raise param.error()
            return lowered == "true"
        if param.kind == "integer":
            try:
                number = int(raw.strip())
            except ValueError:
                raise param.error() from None
            if ((param.minimum is not None and number < param.minimum)
                    or (param.maximum is not None and number > param.maximum)):
                raise bad_argument(param.range_message) if param.range_message else param.error()
            return number
        if param.enum:
            for choice in param.enum:
                if raw.lower() == choice.lower():
                    return choice
            raise param.error()
        return raw

    def flag(self, param: QueryParam) -> bool:
        """``get`` of a boolean parameter (declared with a boolean default)."""
        return self._typed(param, bool)

    def integer(self, param: QueryParam) -> int:
        """``get`` of an integer parameter (declared with an integer default)."""
        return self._typed(param, int)

    def text(self, param: QueryParam) -> str:
        """``get`` of a string parameter (declared with a string default)."""
        return self._typed(param, str)

    def _typed(self, param: QueryParam, kind: type[T]) -> T:
        value = self.get(param)
        if not isinstance(value, kind):  # a declaration mistake, not a client's
            raise TypeError(f"query parameter {param.name} has no {kind.__name__} default")
        return value


def parse_csv(raw: str | None, choices: Iterable[str], param_name: str) -> tuple[str, ...]:
    """Split a comma-separated list whose items must each be one of ``choices`` (matched
    case-insensitively, returned in canonical spelling, without duplicates). Spaces or empty
    items make the whole list invalid, as on Azure."""
    if raw is None:
        return ()
    canonical = {choice.lower(): choice for choice in choices}
    names: list[str] = []
    for item in raw.split(","):
        name = canonical.get(item.lower())
        if name is None:
            raise invalid_argument(param_name)
        if name not in names:
            names.append(name)
    return tuple(names)

"""Field types shared by the request models: what a client may send, checked at the edge."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from testudo.numbers import (
    JSON_PATTERN,
    MAX_FRACTION_DIGITS,
    MAX_INTEGER_DIGITS,
    MAX_TEXT_LENGTH,
    parse_plain_decimal,
)

DESCRIPTION = (
    f"a decimal: a string of ASCII digits (or a JSON number) with at most {MAX_INTEGER_DIGITS} "
    f"digits before the point and {MAX_FRACTION_DIGITS} after it"
)


def decimal_schema(
    gt: Decimal | None = None, ge: Decimal | None = None, le: Decimal | None = None
) -> dict[str, Any]:
    """The JSON schema of a plain decimal with these bounds (applied to the number form)."""
    limit = float(10**MAX_INTEGER_DIGITS)
    number: dict[str, Any] = {"type": "number", "exclusiveMaximum": limit}
    if gt is not None:
        number["exclusiveMinimum"] = float(gt)
    elif ge is not None:
        number["minimum"] = float(ge)
    else:
        number["exclusiveMinimum"] = -limit
    if le is not None:
        number = {k: v for k, v in number.items() if k != "exclusiveMaximum"}
        number["maximum"] = float(le)
    text = {"type": "string", "pattern": JSON_PATTERN, "maxLength": MAX_TEXT_LENGTH}
    return {"anyOf": [text, number], "description": DESCRIPTION, "examples": ["50000.5"]}


_PARSE = BeforeValidator(parse_plain_decimal)

PlainDecimal = Annotated[Decimal, _PARSE, WithJsonSchema(decimal_schema())]
"""A decimal within the documented magnitude and precision (``testudo.numbers``); anything
else is refused with a 422 naming the field, before it reaches a service or an actor."""

PositiveDecimal = Annotated[
    Decimal, _PARSE, Field(gt=0), WithJsonSchema(decimal_schema(gt=Decimal(0)))
]
"""A price or a quantity: a :data:`PlainDecimal` above zero."""

Percent = Annotated[
    Decimal,
    _PARSE,
    Field(gt=0, le=100),
    WithJsonSchema(decimal_schema(gt=Decimal(0), le=Decimal(100))),
]
"""A share of a position: above 0, at most 100."""

Leverage = Annotated[
    Decimal,
    _PARSE,
    Field(ge=1, le=125),
    WithJsonSchema(decimal_schema(ge=Decimal(1), le=Decimal(125))),
]
"""Leverage: from 1 to 125."""

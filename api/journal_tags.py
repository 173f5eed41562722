"""``/api/v1/journal/tags``: the user's tags (unique names, case-insensitive; a colour)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator
from quart import Blueprint
from quart_schema import tag, validate_request

from testudo.journal import tags
from testudo.journal.tags import DuplicateTag
from testudo.journal.views import tag_json

from .auth_guard import authenticated
from .journal_common import not_found, run, user_id
from .problems import Problem, problem

tags_blueprint = Blueprint("journal_tags", __name__, url_prefix="/tags")
TAGS = tag(["journal"])
COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,32})$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if CONTROL.search(value) or "," in value:
        raise ValueError("must not contain control characters or commas")
    return value


def _color(value: str | None) -> str | None:
    if value is not None and not COLOR.match(value):
        raise ValueError("a hex colour (#22c55e) or a colour name")
    return value


class _TagFields(BaseModel):
    @field_validator("name", check_fields=False)
    @classmethod
    def check_name(cls, value: str | None) -> str | None:
        return _name(value)

    @field_validator("color", check_fields=False)
    @classmethod
    def check_color(cls, value: str | None) -> str | None:
        return _color(value)


class NewTag(_TagFields):
    name: str = Field(max_length=64)
    color: str | None = Field(default=None, max_length=32)


class TagUpdate(_TagFields):
    name: str | None = Field(default=None, max_length=64)
    color: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def something(self) -> TagUpdate:
        if not self.model_fields_set & {"name", "color"}:
            raise ValueError("No fields to update: give name and/or color")
        return self


def _duplicate(found: DuplicateTag) -> Problem:
    return problem("tag_exists", f"Tag already exists: {found.name!r}.")


@tags_blueprint.get("")
@TAGS
@authenticated
async def list_tags() -> list[dict[str, Any]]:
    """The caller's tags, by name."""
    uid = user_id()
    return [tag_json(t) for t in await run(lambda conn: tags.list_tags(conn, uid))]


@tags_blueprint.post("")
@TAGS
@authenticated
@validate_request(NewTag)
async def create_tag(data: NewTag) -> tuple[dict[str, Any], int]:
    """Create a tag; 409 ``tag_exists`` when the name is taken (case-insensitive)."""
    uid = user_id()
    result = await run(lambda conn: tags.create_tag(conn, uid, data.name, data.color))
    if isinstance(result, DuplicateTag):
        raise _duplicate(result)
    return tag_json(result), 201


@tags_blueprint.put("/<uuid:tag_id>")
@TAGS
@authenticated
@validate_request(TagUpdate)
async def update_tag(tag_id: uuid.UUID, data: TagUpdate) -> dict[str, Any]:
    """Rename and/or recolour (``"color": null`` clears the colour)."""
    uid = user_id()
    set_color = "color" in data.model_fields_set
    result = await run(
        lambda conn: tags.update_tag(
            conn, uid, str(tag_id), name=data.name, color=data.color, set_color=set_color
        )
    )
    if isinstance(result, DuplicateTag):
        raise _duplicate(result)
    if result is None:
        raise not_found("tag")
    return tag_json(result)


@tags_blueprint.delete("/<uuid:tag_id>")
@TAGS
@authenticated
async def delete_tag(tag_id: uuid.UUID) -> dict[str, bool]:
    """Delete a tag; it is unlinked from every trade."""
    uid = user_id()
    if not await run(lambda conn: tags.delete_tag(conn, uid, str(tag_id))):
        raise not_found("tag")
    return {"deleted": True}

"""Typed pydantic input models, generated at runtime from the catalog data.

One model per endpoint (cached), with ``extra="forbid"`` so that fields fal does not know (the
source guides' ``camera_control`` on v2.5, ``special_fx``, ``voice_ids`` on v3 ...) are rejected
instead of being sent and silently ignored. Endpoints whose schema is known only partly
(``schema_complete`` false, e.g. Kling 4.0) allow extra fields. Cross-field rules run from a model
validator through :func:`kling_prompt.catalog.rules.check_rules`.

Importing this module imports pydantic; only validation and dispatch need it.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, ClassVar, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError

from kling_prompt.catalog.data import EndpointInfo, FieldInfo, get, shared_type
from kling_prompt.catalog.rules import check_rules

RULES_ERROR = "catalog_rules"


def _class_name(endpoint_id: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", endpoint_id.replace("fal-ai/", "").replace(".", "_"))
    return "".join(w[:1].upper() + w[1:] for w in words if w) + "Input"


def _annotation(field: FieldInfo) -> Any:
    base: Any
    if field.enum is not None:
        base = Literal[tuple(field.enum)]
    elif field.type == "string":
        base = str
    elif field.type == "integer":
        base = int
    elif field.type == "number":
        base = float
    elif field.type == "boolean":
        base = bool
    elif field.type == "array":
        item: Any = str if field.items == "string" else nested_model(str(field.items))
        base = list[item]
    else:
        base = nested_model(str(field.ref))
    constraints: dict[str, Any] = {}
    if field.max_length is not None and field.type == "string":
        constraints["max_length"] = field.max_length
    if field.type == "array":
        if field.max_items is not None:
            constraints["max_length"] = field.max_items
        if field.min_items is not None:
            constraints["min_length"] = field.min_items
    if field.minimum is not None:
        constraints["ge"] = field.minimum
    if field.maximum is not None:
        constraints["le"] = field.maximum
    if constraints:
        base = Annotated[base, Field(**constraints)]
    if field.nullable:
        base = Optional[base]  # noqa: UP045 -- built at runtime from a variable
    return base


def _definitions(fields: dict[str, FieldInfo]) -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    for name, field in fields.items():
        annotation = _annotation(field)
        if field.required:
            default: Any = ...
        elif field.has_default:
            default = field.default
        else:
            default = None
        definitions[name] = (
            annotation,
            Field(default=default, description=field.description),
        )
    return definitions


@functools.cache
def nested_model(type_name: str) -> type[BaseModel]:
    """The pydantic model of a shared nested type (``KlingV3MultiPromptElement``, ...)."""
    info = shared_type(type_name)
    model: type[BaseModel] = create_model(
        type_name,
        __config__=ConfigDict(extra="forbid", title=type_name),
        **_definitions(info.fields),
    )
    return model


class EndpointInput(BaseModel):
    """Base of the generated endpoint models: runs the catalog's cross-field rules."""

    model_config = ConfigDict(extra="forbid")
    endpoint_id: ClassVar[str] = ""

    @model_validator(mode="after")
    def _catalog_rules(self) -> EndpointInput:
        info = get(self.endpoint_id)
        arguments = self.model_dump(exclude_unset=True)
        problems = check_rules(info, arguments)
        if problems:
            raise PydanticCustomError(
                RULES_ERROR,
                "{summary}",
                {"summary": "; ".join(str(p) for p in problems)},
            )
        return self


class OpenEndpointInput(EndpointInput):
    """Base for endpoints whose schema is known only in part: unknown fields pass through."""

    model_config = ConfigDict(extra="allow")


@functools.cache
def model(endpoint_id: str) -> type[BaseModel]:
    """The pydantic input model of ``endpoint_id`` (built once, then cached)."""
    info: EndpointInfo = get(endpoint_id)
    base = EndpointInput if info.schema_complete else OpenEndpointInput
    created: type[EndpointInput] = create_model(
        _class_name(endpoint_id),
        __base__=base,
        __doc__=f"Input of fal endpoint {endpoint_id} ({info.mode}, {info.family}).",
        **_definitions(info.fields),
    )
    created.endpoint_id = endpoint_id
    return created

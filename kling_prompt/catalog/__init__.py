"""The endpoint catalog: every fact about fal's Kling endpoints, in one place.

Facts (fields, enums, limits, capabilities, roles, prices), routing and cost estimates use the
standard library only, so lint rules can read them cheaply. Validation builds pydantic models on
demand: :func:`validate`, :func:`check`, :func:`model` and :func:`json_schema` import pydantic the
first time they are called, never at import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kling_prompt.catalog.data import (
    FAMILY_ORDER,
    FEATURES,
    MODES,
    Capabilities,
    EndpointInfo,
    FieldInfo,
    PriceEntry,
    PriceModel,
    TypeInfo,
    close_matches,
    constants,
    endpoint_ids,
    endpoints,
    families,
    get,
    normalize_family,
    normalize_mode,
    shared_type,
    shared_types,
)
from kling_prompt.catalog.pricing import CostEstimate, estimate_cost, load_price_overrides
from kling_prompt.catalog.routing import (
    Route,
    default_endpoint,
    infer_mode,
    roles_and_features,
    route,
    route_request,
)
from kling_prompt.catalog.rules import check_rules
from kling_prompt.errors import CatalogError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from kling_prompt.errors import Problem

__all__ = [
    "FAMILY_ORDER",
    "FEATURES",
    "MODES",
    "Capabilities",
    "CatalogError",
    "CostEstimate",
    "EndpointInfo",
    "FieldInfo",
    "PriceEntry",
    "PriceModel",
    "Route",
    "TypeInfo",
    "check",
    "check_rules",
    "close_matches",
    "constants",
    "default_endpoint",
    "endpoint_ids",
    "endpoints",
    "estimate_cost",
    "fal_error_detail",
    "families",
    "get",
    "infer_mode",
    "json_schema",
    "load_price_overrides",
    "model",
    "normalize_family",
    "normalize_mode",
    "roles_and_features",
    "route",
    "route_request",
    "shared_type",
    "shared_types",
    "validate",
]


def validate(endpoint_id: str, arguments: Mapping[str, Any]) -> BaseModel:
    """The typed input model instance for ``arguments``.

    Raises :class:`kling_prompt.errors.ValidationError` listing every problem with its field
    path (``multi_prompt[1].duration``, ``elements[0].frontal_image_url``).
    """
    from kling_prompt.catalog.validation import validate as _validate

    return _validate(endpoint_id, arguments)


def check(endpoint_id: str, arguments: Mapping[str, Any]) -> list[Problem]:
    """Every problem in ``arguments`` (empty when valid); never raises for bad arguments."""
    from kling_prompt.catalog.validation import check as _check

    return _check(endpoint_id, arguments)


def model(endpoint_id: str) -> type[BaseModel]:
    """The pydantic input model class of ``endpoint_id`` (cached)."""
    from kling_prompt.catalog.models import model as _model

    return _model(endpoint_id)


def json_schema(endpoint_id: str) -> dict[str, Any]:
    """The JSON Schema of the endpoint's input, derived from its pydantic model."""
    from kling_prompt.catalog.validation import json_schema as _json_schema

    return _json_schema(endpoint_id)


def fal_error_detail(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    """Problems as fal's 422 ``detail`` list: ``{"loc": ["body", ...], "msg", "type"}``."""
    from kling_prompt.catalog.validation import split_loc

    return [
        {"loc": ["body", *split_loc(p.loc)], "msg": p.message, "type": p.type} for p in problems
    ]

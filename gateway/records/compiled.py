"""The record schema compiled once into plain functions: the fast path for valid records.

marshmallow spends most of a record's load on its own machinery (an error store, hook
look-ups and a closure per member, a processor pass per nested object), not on the
checks: a 96-cell record makes 66 nested schema loads and some 440 field calls. Bulk
issuance reads thousands of records, nearly all valid, so each schema is walked once
and turned into one function per object that calls the same field code directly.

The compiled function is a fast path, never a second set of rules:

* it is derived from the schema instances themselves (their ``load_fields``, required
  flags, validators and ``@validates_schema`` hooks), so a member added to the model
  works here without a change;
* every value is checked by the field's own ``_deserialize`` and validators, which is
  what ``Field.deserialize`` runs once ``None`` and absent members are set aside;
* it either returns the very result ``Schema.load`` would return (same members, same
  order) or gives up (:class:`Decline`), and then the caller runs marshmallow, whose
  errors are the ones reported. Whatever it cannot vouch for (a ``None`` where one is
  not allowed, an unknown member, a missing required one, any failed check) is a
  decline, so a bad record gets exactly the problems it always got.

A schema whose hooks or options the compiler does not know (``post_load``,
``@validates``, ``data_key``, partial loading...) is not compiled: its objects are
loaded by ``Schema.load`` inside the fast path, which stays correct, only slower.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.decorators import (
    POST_LOAD,
    PRE_LOAD,
    VALIDATES,
    VALIDATES_SCHEMA,
)

from gateway.records.fields import CatalogValues, TaggedUnion
from gateway.records.schema import StrictSchema

#: A compiled check: ``(value, member name, enclosing object) -> loaded value``.
Check = Callable[[Any, "str | None", Any], Any]


class Decline(Exception):
    """The fast path cannot vouch for the input; ``Schema.load`` must decide."""


def _null_dropping(schema: Schema) -> bool:
    # The model's one pre-load hook: a ``null`` optional member means absent. The loop
    # in _object does the same (skip it); any other pre-load hook is unknown here.
    names = [name for name, _, _ in schema._hooks[PRE_LOAD]]
    if not names:
        return True
    hook = getattr(type(schema), "_drop_nulls", None)
    return names == ["_drop_nulls"] and hook is StrictSchema._drop_nulls


def _compilable(schema: Schema) -> bool:
    hooks = schema._hooks
    return (
        schema.unknown == RAISE
        and not schema.many
        and schema.partial is None
        and not hooks[POST_LOAD]
        and not hooks[VALIDATES]
        and _null_dropping(schema)
        and all(
            field.data_key is None
            and field.attribute is None
            and not field.allow_none
            and not field.pre_load
            and not field.post_load
            for field in schema.load_fields.values()
        )
    )


class Compiler:
    """Compiles schema instances and their fields; one compilation per schema instance."""

    def __init__(self) -> None:
        self._schemas: dict[int, Check] = {}
        self._keep: list[Schema] = []  # the compiled instances stay alive with their ids

    def schema(self, schema: Schema) -> Check:
        """The check loading one object as ``schema.load`` does (or declining)."""
        known = self._schemas.get(id(schema))
        if known is not None:
            return known
        if not _compilable(schema):
            check = _schema_load(schema)
        else:
            # Placed before the members are compiled, so a recursive model terminates.
            slot: list[Check] = []
            self._schemas[id(schema)] = lambda value, attr, data: slot[0](value, attr, data)
            check = self._object(schema)
            slot.append(check)
        self._schemas[id(schema)] = check
        self._keep.append(schema)
        return check

    def _object(self, schema: Schema) -> Check:
        plan = tuple(
            (name, self.field(field), bool(field.required))
            for name, field in schema.load_fields.items()
        )
        # Schema._do_load runs the collection-level hooks, then the others; on a schema
        # that is not ``many`` both receive the one object.
        hooks = [
            (getattr(schema, name), bool(kwargs.get("pass_original")))
            for collection in (True, False)
            for name, many, kwargs in schema._hooks[VALIDATES_SCHEMA]
            if many == collection
        ]
        names = frozenset(schema.load_fields)

        def load(value: Any, attr: str | None, data: Any) -> dict[str, Any]:
            if type(value) is not dict or not value.keys() <= names:
                raise Decline  # not an object, or an unknown member
            # In the schema's member order, as Schema._deserialize builds its result.
            out: dict[str, Any] = {}
            for name, check, required in plan:
                member = value.get(name)
                if member is None:
                    if required:
                        raise Decline  # missing, or null where null is not allowed
                    continue  # absent, or null meaning absent
                out[name] = check(member, name, value)
            for hook, pass_original in hooks:
                if pass_original:
                    hook(out, value, partial=None, many=False, unknown=RAISE)
                else:
                    hook(out, partial=None, many=False, unknown=RAISE)
            return out

        return load

    def field(self, field: fields.Field[Any]) -> Check:
        """The check of one field's (non-null) value."""
        validators = tuple(field.validators)
        if isinstance(field, fields.Nested) and not validators and not field.many:
            if field.only is None and not field.exclude and field.unknown in (None, RAISE):
                return self.schema(field.schema)
        if isinstance(field, fields.List) and not validators:
            return self._list(field.inner)
        if isinstance(field, TaggedUnion) and not validators:
            return self._union(field)
        if isinstance(field, CatalogValues) and not validators:
            return self._catalog(field)
        return _leaf(field)

    def _list(self, inner: fields.Field[Any]) -> Check:
        item = self.field(inner)
        # A field that loads every string its pattern matches whole as it is (and has
        # no validators, so the item check is its own ``_deserialize``): a list whose
        # items all match is loaded in one pass (``fullmatch`` refuses a non-string
        # with TypeError; the items are then loaded one by one).
        as_is = getattr(inner, "loads_as_is", None)
        matches = as_is.fullmatch if as_is is not None and item == inner._deserialize else None

        def load(value: Any, attr: str | None, data: Any) -> list[Any]:
            # List items are never nullable (``None in`` tests identity first, so it
            # finds every None; anything else it finds merely declines).
            if type(value) is not list or None in value:
                raise Decline
            if matches is not None:
                try:
                    if all(map(matches, value)):
                        return list(value)
                except TypeError:
                    pass
            # List._deserialize calls the inner field without member name or object.
            return [item(each, None, None) for each in value]

        return load

    def _union(self, field: TaggedUnion) -> Check:
        by_kind = {kind: self.schema(field.schema_for(kind)) for kind in field.schemas}

        def load(value: Any, attr: str | None, data: Any) -> Any:
            # TaggedUnion._deserialize: an object whose ``type`` names one of the schemas.
            if type(value) is not dict:
                raise Decline
            kind = value.get("type")
            check = by_kind.get(kind) if type(kind) is str else None
            if check is None:
                raise Decline
            return check(value, attr, data)

        return load

    def _catalog(self, field: CatalogValues) -> Check:
        # CatalogValues._deserialize with its detail members compiled too.
        details = {key: self.field(inner) for key, inner in field.details.items()}
        loaders = {key: _bound(check, key) for key, check in details.items()}

        def load(value: Any, attr: str | None, data: Any) -> Any:
            if type(value) is not dict:
                raise Decline
            return field.load_parts(value, loaders)

        return load


def _bound(check: Check, attr: str) -> Callable[[Any], Any]:
    return lambda value: check(value, attr, None)


def _leaf(field: fields.Field[Any]) -> Check:
    # Field.deserialize less what cannot happen here (a missing or null value, field
    # pre/post-load functions): the field's own conversion, then its validators.
    deserialize = field._deserialize
    validators = tuple(_validator(v) for v in field.validators)
    if not validators:
        return deserialize
    if len(validators) == 1:
        (only,) = validators

        def load_one(value: Any, attr: str | None, data: Any) -> Any:
            output = deserialize(value, attr, data)
            only(output)
            return output

        return load_one

    def load(value: Any, attr: str | None, data: Any) -> Any:
        output = deserialize(value, attr, data)
        for validator in validators:
            validator(output)
        return output

    return load


def _validator(validator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A field validator, a pattern reduced to its match (the most common validator of
    a record: codes, dates, identifiers); a value it refuses declines, and marshmallow
    then words the error as it always does."""
    if type(validator) is not validate.Regexp:
        return validator
    match = validator.regex.match

    def matches(value: Any) -> None:
        if match(value) is None:
            raise Decline

    return matches


def _schema_load(schema: Schema) -> Check:
    def load(value: Any, attr: str | None, data: Any) -> Any:
        return schema.load(value)

    return load


def compile_schema(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """A function loading a record as ``schema.load`` does, or raising :class:`Decline`.

    :param schema: a schema instance (kept alive by the result).
    :returns: ``load(data)``: the loaded object, or :class:`Decline` when ``data`` is
        not an object ``schema`` accepts (``ValidationError`` of a check is turned into
        a decline too: the caller asks marshmallow for the problems).
    """
    check = Compiler().schema(schema)

    def load(data: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = check(data, None, None)
        except ValidationError:
            raise Decline from None
        return result

    return load


__all__ = ["Check", "Compiler", "Decline", "compile_schema"]

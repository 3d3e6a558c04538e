"""Event types by name, with their schema versions and the upcasters that lift old payloads."""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

import msgspec

from events.dates import PartialDate
from events.errors import InvalidAppend
from events.model import NewEvent, RecordedEvent

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


def _encode_value(value: Any) -> Any:
    if isinstance(value, PartialDate):
        return str(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


def _decode_value(kind: type, value: Any) -> Any:
    if kind is PartialDate:
        return _partial_date(value) if isinstance(value, str) else PartialDate.parse(value)
    raise NotImplementedError(f"cannot decode {kind.__name__}")


# A log spells the same dates many times over, and a PartialDate is immutable: one parse
# serves them all.
_partial_date = functools.lru_cache(maxsize=1 << 16)(PartialDate.parse)


# The annotations of a text field a vocabulary may close, as written (a string under
# `from __future__ import annotations`) or as a type: whether it may be None.
_TEXT: dict[Any, Any] = {"str": str, str: str, "str | None": str | None, str | None: str | None}

# Where msgspec says a value was refused: "... - at `$.kind`".
_AT_FIELD = re.compile(r"- at `\$\.(\w+)`$")

# Canonical payload text: every field, keys sorted, dates in their text form.
_encoder = msgspec.json.Encoder(enc_hook=_encode_value, order="sorted")


@dataclass(frozen=True)
class EventType:
    name: str
    cls: type
    version: int
    upcasters: Mapping[int, Upcaster]
    # Fields kept as text whose value is one of a vocabulary's (the enum's values).
    choices: Mapping[str, type[StrEnum]] = dataclasses.field(default_factory=dict)

    @cached_property
    def fields(self) -> frozenset[str]:
        return frozenset(field.name for field in dataclasses.fields(self.cls))

    def defaults(self) -> Payload:
        """The values of the fields that have defaults (fresh ones from a default factory)."""
        values = dict(self._plain_defaults)
        for name, factory in self._default_factories.items():
            values[name] = factory()
        return values

    @cached_property
    def _plain_defaults(self) -> Payload:
        return {
            field.name: field.default
            for field in dataclasses.fields(self.cls)
            if field.default is not dataclasses.MISSING
        }

    @cached_property
    def _default_factories(self) -> dict[str, Callable[[], Any]]:
        return {
            field.name: field.default_factory
            for field in dataclasses.fields(self.cls)
            if field.default_factory is not dataclasses.MISSING
        }

    @cached_property
    def decoder(self) -> msgspec.json.Decoder[Any]:
        """Payload text at the current version straight into the class, in msgspec."""
        return msgspec.json.Decoder(self.cls, dec_hook=_decode_value)

    @cached_property
    def strict(self) -> type[msgspec.Struct]:
        """The class's fields as a msgspec struct that also refuses a field the class lacks
        and, for each field with a vocabulary, a value not in it: what a payload someone
        else wrote is held to (the class itself, as every read decodes into it, takes them)."""
        # With the constraints an Annotated type carries (msgspec.Meta), as the class has them.
        hints = typing.get_type_hints(self.cls, include_extras=True)
        spec: list[tuple[str, Any, Any]] = []
        for each in dataclasses.fields(self.cls):
            kind = hints[each.name]
            choices = self.choices.get(each.name)
            if choices is not None:  # text, as `register` checked
                kind = choices if _TEXT[each.type] is str else choices | None
            if each.default is not dataclasses.MISSING:
                spec.append((each.name, kind, each.default))
            elif each.default_factory is not dataclasses.MISSING:
                spec.append((each.name, kind, msgspec.field(default_factory=each.default_factory)))
            else:
                spec.append((each.name, kind, msgspec.NODEFAULT))
        return msgspec.defstruct(self.name, spec, forbid_unknown_fields=True, kw_only=True)

    @cached_property
    def stream_of(self) -> Callable[[Any], str] | None:
        """The stream an event of this type belongs in, by the class's `stream` property
        (None: the class names none), read off its instance or its `strict` struct alike:
        the property may read only the event's fields, which both have by the same names."""
        found = getattr(self.cls, "stream", None)
        return found.fget if isinstance(found, property) else None

    @cached_property
    def checker(self) -> msgspec.json.Decoder[Any]:
        """Payload text at the current version into `strict`."""
        return msgspec.json.Decoder(self.strict, dec_hook=_decode_value)

    def hint(self, error: Exception) -> str:
        """What a field with a vocabulary may hold, where `error` refused its value."""
        found = _AT_FIELD.search(str(error))
        choices = self.choices.get(found[1]) if found else None
        return "" if choices is None else f" (one of {', '.join(choices)})"

    def lift(self, data: Payload, from_version: int) -> Payload:
        """Bring a payload written at `from_version` up to the current version."""
        for version in range(from_version, self.version):
            data = self.upcasters[version](dict(data))
        return data


class EventTypes:
    """The catalogue of what can happen. The store refuses any type not in it."""

    def __init__(self) -> None:
        self._by_name: dict[str, EventType] = {}
        self._by_class: dict[type, EventType] = {}

    def register(
        self,
        *,
        version: int = 1,
        upcasters: Mapping[int, Upcaster] | None = None,
        choices: Mapping[str, type[StrEnum]] | None = None,
    ) -> Callable[[type], type]:
        """Class decorator: `@types.register(version=2, upcasters={1: v1_to_v2})`;
        `choices={"kind": PartnerKind}` names the text fields whose values a vocabulary
        closes (checked where a payload comes from elsewhere: `payload_problem`)."""

        def add(cls: type) -> type:
            ups = dict(upcasters or {})
            missing = [v for v in range(1, version) if v not in ups]
            if missing:
                raise TypeError(f"{cls.__name__} v{version} lacks upcasters from {missing}")
            fields = {each.name: each.type for each in dataclasses.fields(cls)}
            for name in choices or {}:
                if name not in fields:
                    raise TypeError(f"{cls.__name__} has no field {name!r} to give a vocabulary")
                if fields[name] not in _TEXT:
                    raise TypeError(f"{cls.__name__}.{name} has a vocabulary but is not text")
            entry = EventType(cls.__name__, cls, version, ups, dict(choices or {}))
            self._by_name[entry.name] = entry
            self._by_class[cls] = entry
            return cls

        return add

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def versions(self) -> dict[str, int]:
        """Each type's current schema version, by name."""
        return {name: entry.version for name, entry in self._by_name.items()}

    def get(self, name: str) -> EventType:
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidAppend(f"unknown event type {name!r}") from None

    def to_new_event(self, event: object) -> NewEvent:
        """A domain event (an instance of a registered class) as a NewEvent."""
        entry = self._by_class.get(type(event))
        if entry is None:
            raise InvalidAppend(f"{type(event).__name__} is not a registered event type")
        return NewEvent(entry.name, self.payload(event))

    @staticmethod
    def payload(event: Any) -> Payload:
        """Every field, defaults included, so a stored payload says all it means."""
        return {
            field.name: msgspec.to_builtins(getattr(event, field.name), enc_hook=_encode_value)
            for field in dataclasses.fields(event)
        }

    def canonical(self, item: NewEvent | object) -> tuple[EventType, str]:
        """Check an event against its type's current version; give its type and canonical text.

        `item` is a NewEvent (type name and payload) or an instance of a registered class (an
        instance is taken as its fields' values: a dataclass does not check their types).
        The values, with defaults for the fields left out, are converted into the class's
        strict struct, which checks every field's type strictly and each vocabulary's
        values, and encoded: the text is the one normal
        form of the payload, every field spelled, keys sorted. Each step runs in msgspec.
        """
        data: Any
        if isinstance(item, NewEvent):
            entry, data = self.get(item.type), item.data
            if not isinstance(data, Mapping):
                raise InvalidAppend(
                    f"{entry.name} payload must be an object, not {type(data).__name__}"
                )
            unknown = sorted(map(str, set(data) - entry.fields))
            if unknown:
                raise InvalidAppend(f"{entry.name} has no field(s) {', '.join(unknown)}")
        else:
            found = self._by_class.get(type(item))
            if found is None:
                raise InvalidAppend(f"{type(item).__name__} is not a registered event type")
            entry, data = found, item
        try:
            if not isinstance(data, Mapping):
                data = msgspec.to_builtins(data, enc_hook=_encode_value)
            event: Any = msgspec.convert(
                {**entry.defaults(), **data}, entry.strict, dec_hook=_decode_value
            )
            return entry, _encoder.encode(event).decode()
        except (
            msgspec.ValidationError,
            msgspec.EncodeError,
            ValueError,
            TypeError,
            NotImplementedError,
            RecursionError,
        ) as error:
            raise InvalidAppend(
                f"{entry.name} payload is invalid: {error}{entry.hint(error)}"
            ) from None

    def decode_text(self, name: str, schema_version: int, text: str | bytes) -> Any:
        """The domain event a stored payload stands for, decoded from its text (the bulk
        paths, which never build the payload as a dict), lifted as `decode` lifts it."""
        entry = self.get(name)
        if schema_version == entry.version:
            return entry.decoder.decode(text)
        data = entry.lift(msgspec.json.decode(text), schema_version)
        return msgspec.convert(data, entry.cls, dec_hook=_decode_value)

    def payload_problem(
        self, name: str, schema_version: int, text: str, stream: str | None = None
    ) -> str | None:
        """What keeps a recorded payload (its text) from being the event it stands for at
        `schema_version`, lifted to the current version (a field missing, a value of the
        wrong type, an upcaster that fails on it), or None: what an import or a copy refuses
        rather than write an event no fold could read; a field the event does not have, or
        a value outside a field's vocabulary, too (what no Coop of this version writes, and
        what the API could not answer with); and, given the `stream` it was recorded in,
        a payload that says it belongs in another (where the class names its stream: a
        `stream` property). The type is known and its version neither newer nor below 1
        (the caller checked)."""
        entry = self._by_name.get(name)
        if entry is None:
            return f"{name} is an event type unknown to this Coop"
        try:
            if schema_version == entry.version:
                event = entry.checker.decode(text)
            else:
                found = msgspec.json.decode(text)
                if not isinstance(found, dict):
                    kind = type(found).__name__
                    return (
                        f"{name} v{schema_version} payload is invalid: not an object but a {kind}"
                    )
                lifted = entry.lift(found, schema_version)
                event = msgspec.convert(lifted, entry.strict, dec_hook=_decode_value)
            own = None if stream is None or entry.stream_of is None else entry.stream_of(event)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            return f"{name} v{schema_version} payload is invalid: {error}{entry.hint(error)}"
        except Exception as error:  # an upcaster is code of its own: whatever it raises
            return f"{name} v{schema_version} payload is invalid: {type(error).__name__}: {error}"
        if own is not None and own != stream:
            return f"{name} is recorded in stream {stream!r}, but its payload's stream is {own!r}"
        return None

    def decode(self, event: RecordedEvent) -> Any:
        """The domain event a recorded one stands for, lifted to the current schema version."""
        entry = self.get(event.type)
        data = entry.lift(event.data, event.schema_version)
        return msgspec.convert(data, entry.cls, dec_hook=_decode_value)

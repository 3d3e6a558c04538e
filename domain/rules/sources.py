"""Sources: the documents facts come from. Every command must name a registered one."""

from __future__ import annotations

from domain.commands import RegisterSource
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import DomainEvent, SourceRegistered
from domain.facts import Facts, Plan
from domain.rules.checks import check_key, check_text, check_texts, optional_text
from domain.rules.declare import Returns, rule
from domain.state.sources import source
from domain.streams import source_stream
from domain.vocabulary import ObjectKind
from events.model import SourceRef

# The reference a fact carries when an editor records it without citing a document. It
# needs no registration, and no registered source may take its key.
DIRECT_ENTRY = "direct-entry"


def check_reference(facts: Facts, ref: SourceRef) -> None:
    """The document is registered and, when it lists its sections, names one of them."""
    if ref.document == DIRECT_ENTRY:
        return
    found = source(facts, ref.document)
    if found is None:
        raise NotFound(f"source document {ref.document!r} is not registered; register it first")
    check_section(found.key, found.sections, ref.section)


def check_section(document: str, sections: tuple[str, ...], section: str | None) -> None:
    if section is not None and sections and section not in sections:
        raise ValidationError(
            f"source {document!r} has no section {section!r}; its sections are"
            f" {', '.join(repr(s) for s in sections)}"
        )


def plan_register(command: RegisterSource) -> Plan:
    return Plan(source_stream(command.key))


@rule(RegisterSource, reads=plan_register, returns=Returns.field(ObjectKind.SOURCE, "key"))
def register(facts: Facts, command: RegisterSource) -> list[DomainEvent]:
    key = check_key("source", command.key)
    if key == DIRECT_ENTRY:
        raise Conflict(f"{DIRECT_ENTRY!r} is reserved for facts recorded without a document")
    if source(facts, key) is not None:
        raise Conflict(f"source {key!r} is already registered")
    sections = check_texts("sections", command.sections)
    if command.source.document == key:
        check_section(key, tuple(sections), command.source.section)
    return [
        SourceRegistered(
            key=key,
            title=check_text("title", command.title),
            publisher=optional_text("publisher", command.publisher),
            url=optional_text("url", command.url),
            sections=sections,
        )
    ]

"""Who is asking, and what each role may do: checked by the fields that need it."""

from __future__ import annotations

from dataclasses import dataclass

WRITERS = frozenset({"editor", "admin"})
AUDITORS = frozenset({"auditor", "admin"})


@dataclass(frozen=True)
class Principal:
    """The caller: a role and the name recorded as the actor of what they write."""

    role: str | None
    actor: str | None

    @property
    def authenticated(self) -> bool:
        return self.role is not None

    @property
    def may_write(self) -> bool:
        return self.role in WRITERS

    @property
    def may_audit(self) -> bool:
        return self.role in AUDITORS


ANONYMOUS = Principal(None, None)

"""The GraphQL layer. The domain's enums get their GraphQL names before any type uses them."""

from schema import enums as _enums  # noqa: F401

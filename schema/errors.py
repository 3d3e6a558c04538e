"""GraphQL errors with a code: one way to say what is wrong with a request."""

from __future__ import annotations

from graphql import GraphQLError

from domain.errors import ErrorCode


def coded_error(code: ErrorCode, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": str(code)})


def bad_input(message: str) -> GraphQLError:
    """The request asks for something that cannot mean anything: it says what."""
    return coded_error(ErrorCode.BAD_USER_INPUT, message)

"""Domain exceptions: small, named, each mapped once to a problem type by the API."""

from __future__ import annotations


class DomainError(Exception):
    """A command that the rules refuse. `slug` names the problem type."""

    slug = "domain-error"
    status = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    slug = "not-found"
    status = 404


class Conflict(DomainError):
    slug = "conflict"
    status = 409


class IllegalTransition(Conflict):
    """A change its state machine does not allow from the state the thing is in now."""

    slug = "illegal-transition"

    def __init__(self, what: str, state: str, wanted: str) -> None:
        super().__init__(f"{what} is {state}: it cannot become {wanted}")
        self.state = state


class Forbidden(DomainError):
    slug = "forbidden"
    status = 403


class InvalidEvent(DomainError):
    """An event of an unknown type or with a payload that does not fit its schema."""

    slug = "invalid-event"
    status = 422

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class IdempotencyConflict(DomainError):
    """The same Idempotency-Key was used before with another request body."""

    slug = "idempotency-key-reused"
    status = 409


class FieldInvalid(InvalidEvent):
    """One request field the rules refuse, answered like a schema error (errors[].loc)."""

    slug = "validation-error"

    def __init__(self, field: str, msg: str) -> None:
        super().__init__(f"{field}: {msg}", [{"loc": field, "msg": msg}])

"""Pure domain model: events, state, rules. No I/O, no frameworks but Pydantic."""

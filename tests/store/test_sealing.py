"""Stored responses keep no usable secret: tokens and codes are sealed with the caller's key."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from helpers import SITE, open_store
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import new_code, new_token
from konenut.store import schema
from konenut.store.eventstore import IdempotencyKey


def test_a_replayed_enrollment_gets_its_token_but_the_database_holds_none(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}")
    try:
        added = store.execute(
            SITE, handlers.add_person(None, c.AddPerson(ref="r1", name="Dana", roles=["responder"]))
        )
        code = new_code()
        issue = IdempotencyKey(scope="admin-device", key="issue-1", request_hash="h1")
        issued = store.execute(
            SITE,
            handlers.issue_enrollment_code(
                None, c.IssueEnrollmentCode(subject_id=str(added.body["person_id"])), code
            ),
            issue,
        )
        assert issued.body["code"] == code
        token = new_token()
        enroll = IdempotencyKey(scope="code:x", key="enrol-key-1", request_hash="h2")
        first = store.execute(
            SITE, handlers.enroll_device(c.EnrollDevice(code=code), token), enroll
        )
        assert first.body["token"] == token

        replay = store.execute(
            SITE, handlers.enroll_device(c.EnrollDevice(code=code), new_token()), enroll
        )
        assert replay.replayed and replay.body["token"] == token
        again = store.execute(
            SITE,
            handlers.issue_enrollment_code(
                None, c.IssueEnrollmentCode(subject_id=str(added.body["person_id"])), new_code()
            ),
            issue,
        )
        assert again.replayed and again.body["code"] == code

        with store.reader_engine.connect() as connection:
            rows = connection.execute(sa.select(schema.idempotency)).all()
        stored = repr([tuple(row) for row in rows])
        for secret in (token, code, "enrol-key-1", "issue-1"):
            assert secret not in stored, f"{secret!r} is readable in the idempotency table"
    finally:
        store.close()

"""What the benches share to seed a site: a started store in a data dir, commands run in bulk
through its writer, and a device token enrolled per subject."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from konenut import bootstrap
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import new_code, new_token
from konenut.config import Settings
from konenut.domain.roles import SubjectKind
from konenut.store.eventstore import Decide


class Seeder:
    """A site's store, started on `data_dir`'s database (or on `database_url`); close it when
    done."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        settings = Settings(data_dir=data_dir, database_url=database_url)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store = bootstrap.open_store(settings.resolved_database_url)
        self.site = settings.site_id

    def all_done(self, decides: list[Decide]) -> list[dict[str, Any]]:
        """Submit every command at once (group commit) and wait for all their answers."""
        futures = [self.store.submit(self.site, decide) for decide in decides]
        return [future.result().body for future in futures]

    def enrol(self, subjects: list[tuple[str, SubjectKind]]) -> list[str]:
        """A device token per (subject id, kind), in the same order."""
        decides, tokens = [], []
        for subject_id, kind in subjects:
            code, token = new_code(), new_token()
            issue = c.IssueEnrollmentCode(subject_id=subject_id, subject_kind=kind)
            decides += [
                handlers.issue_enrollment_code(None, issue, code),
                handlers.enroll_device(c.EnrollDevice(code=code), token),
            ]
            tokens.append(token)
        self.all_done(decides)
        return tokens

    def close(self) -> None:
        self.store.close()

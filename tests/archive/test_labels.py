"""Annotations and accounts on both backends (embedded, hbase over the Thrift double)."""

from __future__ import annotations

import pytest

from fink_like.api.accounts import Accounts, AccountError, token_hash
from fink_like.archive import model
from fink_like.archive.labels import Labels
from fink_like.archive.query import NotFoundError
from fink_like.archive.writer import ArchiveWriter
from fink_like.errors import QueryError


@pytest.fixture
def archived(archive_settings, alerts):
    writer = ArchiveWriter(archive_settings)
    writer.write(alerts)
    writer.close()
    return archive_settings


def test_labels_keep_an_audit_trail(archived, alerts):
    objects = sorted(set(alerts.column("object_id").to_pylist()))
    labels = Labels(archived)
    try:
        first = labels.add(objects[0], "SN Ia", "spectrum from NOT", "alice")
        second = labels.add(objects[0], "SN II", "", "bob")
        labels.add(objects[1], "AGN", "x" * 2000, "alice")
        history = labels.history(objects[0])
        assert [(h["label"], h["user"]) for h in history] == [("SN Ia", "alice"), ("SN II", "bob")]
        assert history[0] == first and history[1]["time"] >= first["time"]
        current = labels.current()
        assert {k: v["label"] for k, v in current.items()} == {objects[0]: "SN II", objects[1]: "AGN"}
        assert current[objects[0]] == second
        with pytest.raises(NotFoundError, match="not in the archive"):
            labels.add("ZTF00nothere", "SN Ia", "", "alice")
        for bad in ["", "x" * 65, "a;b", "<script>"]:
            with pytest.raises(QueryError, match="invalid label"):
                labels.add(objects[0], bad, "", "alice")
        with pytest.raises(QueryError, match="at most 2000"):
            labels.add(objects[0], "SN Ia", "x" * 2001, "alice")
        with pytest.raises(QueryError, match="invalid object id"):
            labels.history("a_b")
    finally:
        labels.close()


def test_tokens_are_stored_hashed_and_roles_ordered(archive_settings):
    accounts = Accounts(archive_settings)
    try:
        token = accounts.add_user("carol", "annotator")
        second = accounts.issue_token("carol")
        assert token != second and token.startswith("fl_") and len(token) > 40
        user = accounts.authenticate(token)
        assert user.name == "carol" and user.can("reader") and user.can("annotator") and not user.can("admin")
        assert accounts.authenticate(second) == user and accounts.authenticate("fl_guess") is None
        table = model.table_name(archive_settings.archive.table_prefix, "tokens")
        stored = [key for key, _ in accounts.backend.scan(table)]
        assert sorted(stored) == sorted([token_hash(token).encode(), token_hash(second).encode()])
        assert all(token.encode() not in b"".join(c for _, cells in accounts.backend.scan(table)
                                                  for c in cells.values()) for token in (token, second))
        assert accounts.users() == [{"name": "carol", "role": "annotator", "created": accounts.users()[0]["created"],
                                     "tokens": 2}]
        assert accounts.remove_user("carol") == 2
        assert accounts.authenticate(token) is None and accounts.users() == []
        with pytest.raises(AccountError, match="unknown role"):
            accounts.add_user("dave", "root")
        with pytest.raises(AccountError, match="invalid user name"):
            accounts.add_user("a b", "reader")
        with pytest.raises(AccountError, match="no user"):
            accounts.issue_token("nobody")
    finally:
        accounts.close()

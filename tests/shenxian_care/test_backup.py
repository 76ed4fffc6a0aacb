"""make backup / make restore: a backup restored into an empty database has everything, photos too."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.factories import AgreementFactory, RecipientFactory

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump/pg_restore: run with DATABASE_URL on PostgreSQL")
def test_backup_restores_into_an_empty_database(tmp_path):
    # given a registry with an agreement and an uploaded file
    recipient = RecipientFactory(name="备份测试", level="full")
    AgreementFactory(recipient=recipient)
    media = tmp_path / "media"
    (media / "visits").mkdir(parents=True)
    (media / "visits" / "photo.jpg").write_bytes(b"\xff\xd8 a photo")
    db = connection.settings_dict
    source_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": source_url, "MEDIA_ROOT": str(media)}
    env["DJANGO_SETTINGS_MODULE"] = "shenxian_care.settings.local"
    archive = tmp_path / "backup.tar.gz"

    # when it is backed up and restored into a new, empty database and an empty media folder
    result = _manage("backup", "--out", str(archive), env=env)
    assert result.returncode == 0, result.stderr
    target = f"restore_check_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres"
    )
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{target}"')
    try:
        restored_media = tmp_path / "restored-media"
        env_target = {
            **env,
            "DATABASE_URL": source_url.rsplit("/", 1)[0] + "/" + target,
            "MEDIA_ROOT": str(restored_media),
        }
        result = _manage("restore", str(archive), "--yes", env=env_target)
        assert result.returncode == 0, result.stderr

        # then everything is there
        check = psycopg2.connect(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=target
        )
        with check, check.cursor() as cursor:
            cursor.execute("SELECT name FROM recipients_recipient")
            assert cursor.fetchall() == [("备份测试",)]
            cursor.execute("SELECT count(*) FROM contracts_agreement")
            assert cursor.fetchone() == (1,)
            cursor.execute("SELECT level FROM recipients_levelapproval")
            assert cursor.fetchall() == [("full",)]
            cursor.execute("SELECT count(*) FROM recipients_town")
            assert cursor.fetchone() == (24,)
        check.close()
        assert (restored_media / "visits" / "photo.jpg").read_bytes() == b"\xff\xd8 a photo"
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        admin.close()


def test_restore_refuses_without_confirmation():
    result = _manage("restore", "whatever.tar.gz", env={**os.environ})
    assert result.returncode != 0
    assert "--yes" in result.stderr


class _SqliteConnection:
    vendor = "sqlite"

    def __init__(self, path):
        self.settings_dict = {"NAME": str(path)}


@pytest.mark.parametrize("already_there", [False, True])
def test_the_archive_is_readable_by_its_owner_alone(tmp_path, monkeypatch, already_there):
    # given a database file, a usual umask, and (the second time) an older world-readable archive of that name
    import sqlite3
    import stat

    from shenxian_care import backup

    database = tmp_path / "db.sqlite3"
    sqlite3.connect(database).close()
    monkeypatch.setattr(backup, "connections", {"default": _SqliteConnection(database)})
    archive = tmp_path / "backups" / "shenxian.tar.gz"
    if already_there:
        archive.parent.mkdir()
        archive.write_bytes(b"old")
        archive.chmod(0o644)
    old_umask = os.umask(0o022)
    try:
        # when the backup is written
        backup.backup(archive, media_root=tmp_path / "no-media")
    finally:
        os.umask(old_umask)

    # then nobody but its owner may read it
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    if not already_there:
        assert stat.S_IMODE(archive.parent.stat().st_mode) == 0o700
    assert archive.stat().st_size > 100  # a whole archive, not the old bytes

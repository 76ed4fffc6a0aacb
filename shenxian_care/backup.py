"""Backup and restore of the whole portal: the database (pg_dump custom format on PostgreSQL, the database
file on SQLite) and the uploaded files (visit photos, evidence), in one .tar.gz with a manifest.

The archive holds every person's data: it is written readable by its owner alone (0600), in a folder only the
owner may enter when the folder is new (0700), whatever the umask."""

import datetime
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connections

from .exceptions import ApplicationError


def _pg_args(db):
    args = ["--dbname", db["NAME"], "--no-password"]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    return args


def _env(db):
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _run(args, db):
    # An argument list of our own (pg_dump/pg_restore and connection settings), never a shell string.
    result = subprocess.run(args, env=_env(db), capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if result.returncode != 0:
        raise ApplicationError(f"{args[0]} 失败：{result.stderr.strip()[:500]}")


def backup(out_path, *, alias="default", media_root=None):
    db = connections[alias].settings_dict
    vendor = connections[alias].vendor
    media = Path(media_root or settings.MEDIA_ROOT)
    out_path = Path(out_path)
    out_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if vendor == "postgresql":
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-acl",
                    "--file",
                    str(tmp / "data.dump"),
                    *_pg_args(db),
                ],
                db,
            )
        elif vendor == "sqlite":
            source = sqlite3.connect(db["NAME"])
            target = sqlite3.connect(tmp / "db.sqlite3")
            with target:
                source.backup(target)
            source.close()
            target.close()
        else:
            raise ApplicationError(f"不支持的数据库：{vendor}")
        manifest = {
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "vendor": vendor,
            "media": media.exists(),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
        with _private_file(out_path) as out, tarfile.open(fileobj=out, mode="w:gz") as archive:
            for item in tmp.iterdir():
                archive.add(item, arcname=item.name)
            if media.exists():
                archive.add(media, arcname="media")
    return manifest


def _private_file(path):
    """`path` opened for writing, created 0600 (an older archive of that name is made 0600 before it is
    overwritten), so that no other local user can read it at any moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


def restore(archive_path, *, alias="default", media_root=None):
    """Restore into the configured database (an empty one, or one to be overwritten) and media folder."""
    db = connections[alias].settings_dict
    vendor = connections[alias].vendor
    media = Path(media_root or settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(tmp, filter="data")
        manifest = json.loads((tmp / "manifest.json").read_text())
        if manifest["vendor"] != vendor:
            raise ApplicationError(f"备份来自{manifest['vendor']}数据库，不能恢复到{vendor}。")
        connections[alias].close()
        if vendor == "postgresql":
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-acl",
                    *_pg_args(db),
                    str(tmp / "data.dump"),
                ],
                db,
            )
        else:
            shutil.copyfile(tmp / "db.sqlite3", db["NAME"])
        if (tmp / "media").exists():
            media.mkdir(parents=True, exist_ok=True)
            shutil.copytree(tmp / "media", media, dirs_exist_ok=True)
    return manifest

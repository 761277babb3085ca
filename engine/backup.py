"""Backups: SQLite's online backup API (consistent while the app runs), pg_dump/pg_restore for PostgreSQL."""
import os
import shutil
import sqlite3
import subprocess
from urllib.parse import urlparse

from .errors import BadInput


class BackupError(BadInput):
    """A backup or restore that could not be made (missing file, tool or permission); nothing was changed."""


def sqlite_path(url):
    path = url.split(':///', 1)[-1] if url.startswith('sqlite') else None
    if not path or path == ':memory:':
        return None
    return path


def _pg_tool(name):
    found = shutil.which(name)
    if found:
        return found
    for root in sorted(os.listdir('/usr/lib/postgresql'), reverse=True) if os.path.isdir('/usr/lib/postgresql') else []:
        candidate = os.path.join('/usr/lib/postgresql', root, 'bin', name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f'找不到 {name}，请安装 postgresql-client (pg tools not found)')


def _pg_url(url):
    parsed = urlparse(url)
    return url.replace(parsed.scheme + '://', 'postgresql://', 1)


def backup(url, target, progress=None):
    """Write a backup of the database at `url` to the file `target` (which must not exist yet)."""
    if os.path.exists(target):
        raise BackupError(f'目标文件已存在：{target} (target exists; choose a new name)')
    os.makedirs(os.path.dirname(os.path.abspath(target)) or '.', exist_ok=True)
    path = sqlite_path(url)
    if url.startswith('sqlite'):
        if path is None or not os.path.exists(path):
            raise BackupError(f'数据库文件不存在：{path} (database file not found)')
        source, dest = sqlite3.connect(path), sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest, pages=256, progress=(lambda status, remaining, total: progress(total - remaining, total))
                              if progress else None)
        finally:
            dest.close()
            source.close()
        return target
    _run([_pg_tool('pg_dump'), '--format=custom', '--no-owner', f'--file={target}', _pg_url(url)], 'pg_dump')
    return target


def restore(url, source, replace=False):
    """Load the backup in `source` into the database at `url`; with `replace`, existing tables are dropped
    first. The caller decides whether overwriting existing data is allowed."""
    if not os.path.isfile(source):
        raise BackupError(f'备份文件不存在：{source} (backup file not found)')
    if url.startswith('sqlite'):
        path = sqlite_path(url)
        if path is None:
            raise BackupError('不能恢复到内存数据库 (cannot restore into an in-memory database)')
        _check_sqlite_backup(source)
        os.makedirs(os.path.dirname(os.path.abspath(path)) or '.', exist_ok=True)
        src, dest = sqlite3.connect(source), sqlite3.connect(path)
        try:
            with dest:
                src.backup(dest)
        finally:
            dest.close()
            src.close()
        return path
    args = [_pg_tool('pg_restore'), '--no-owner', '--single-transaction', '--exit-on-error', f'--dbname={_pg_url(url)}']
    if replace:
        args[1:1] = ['--clean', '--if-exists']
    _run(args + [source], 'pg_restore')
    return url


def _check_sqlite_backup(source):
    try:
        with sqlite3.connect(f'file:{source}?mode=ro', uri=True) as conn:
            conn.execute('SELECT seq FROM audit_head').fetchone()
    except sqlite3.DatabaseError:
        raise BackupError(f'不是本系统的 SQLite 备份：{source} (not a Chuangzheng SQLite backup)') from None


def _run(args, tool):
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    except OSError as err:
        raise BackupError(f'{tool} 无法运行：{err}') from None
    if done.returncode != 0:
        raise BackupError(f'{tool} 失败：{done.stderr.strip()[:500]}')

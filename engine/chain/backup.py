"""Backups: SQLite's online backup API (consistent while the app runs), pg_dump/pg_restore for PostgreSQL.
A restore first loads the backup into a scratch database, brings its schema and guards up to date and verifies its
audit chain (against kept checkpoints when given); only a backup that holds replaces the database."""
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from urllib.parse import urlparse, urlunparse

from models import database, open_database

from engine.chain import audit
from engine.errors import BadInput


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


def restore(url, source, replace=False, checkpoints=()):
    """Replace the database at `url` with the backup in `source`, but only after the backup held in a scratch
    copy: schema upgraded, guards installed, audit chain verified (and against each kept checkpoint). Raises
    BackupError, with the database untouched, when it does not. With `replace` (PostgreSQL), existing tables are
    dropped first; the caller decides whether overwriting existing data is allowed. Leaves the proxy bound to
    `url` with the guards installed; returns the scratch copy's VerifyResult."""
    if not os.path.isfile(source):
        raise BackupError(f'备份文件不存在：{source} (backup file not found)')
    try:
        if url.startswith('sqlite'):
            result = _restore_sqlite(url, source, checkpoints)
        else:
            result = _restore_postgres(url, source, replace, checkpoints)
    finally:
        database.close()
        open_database(url)
    _install_current_schema()
    return result


def _restore_sqlite(url, source, checkpoints=()):
    path = sqlite_path(url)
    if path is None:
        raise BackupError('不能恢复到内存数据库 (cannot restore into an in-memory database)')
    _check_sqlite_backup(source)
    folder = os.path.dirname(os.path.abspath(path)) or '.'
    os.makedirs(folder, exist_ok=True)
    fd, scratch = tempfile.mkstemp(dir=folder, prefix='.restore-', suffix='.db')
    os.close(fd)
    try:
        _sqlite_copy(source, scratch)
        result = _verified(f'sqlite:///{scratch}', checkpoints)
        _sqlite_copy(scratch, path)          # one transaction: the good database is replaced whole, or not at all
    finally:
        for leftover in (scratch, scratch + '-wal', scratch + '-shm'):
            if os.path.exists(leftover):
                os.remove(leftover)
    return result


def _sqlite_copy(source, target):
    src, dest = sqlite3.connect(source), sqlite3.connect(target)
    try:
        with dest:
            src.backup(dest)
    finally:
        dest.close()
        src.close()


def _restore_postgres(url, source, replace, checkpoints):
    scratch_name = f'{_pg_dbname(url)}_restore_{secrets.token_hex(4)}'
    scratch_url = _pg_with_dbname(url, scratch_name)
    _pg_admin(url, f'CREATE DATABASE "{scratch_name}"')
    try:
        _run([_pg_tool('pg_restore'), '--no-owner', '--single-transaction', '--exit-on-error',
              f'--dbname={_pg_url(scratch_url)}', source], 'pg_restore')
        result = _verified(scratch_url, checkpoints)
    finally:
        database.close()
        _pg_admin(url, f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)')
    args = [_pg_tool('pg_restore'), '--no-owner', '--single-transaction', '--exit-on-error', f'--dbname={_pg_url(url)}']
    if replace:
        args[1:1] = ['--clean', '--if-exists']
    _run(args + [source], 'pg_restore')
    return result


def _verified(scratch_url, checkpoints):
    """Open the scratch copy, bring it up to date (guards included) and verify it; BackupError unless it holds."""
    open_database(scratch_url)
    try:
        _install_current_schema()
        result = audit.verify(checkpoints=checkpoints)
    finally:
        _close_all()
    if not result.ok:
        first = result.problems[0][1] if result.problems else result.guard_problems[0]
        raise BackupError(f'备份未通过审计链校验，未做任何恢复：{first} '
                          f'(the backup fails verification — nothing was restored)')
    return result


def _install_current_schema():
    from models.migrations import upgrade
    try:
        upgrade()
    except RuntimeError as err:
        raise BackupError(str(err)) from None


def _close_all():
    close_all = getattr(database.obj, 'close_all', None)
    if close_all:
        close_all()
    else:
        database.close()


def _pg_dbname(url):
    return urlparse(url).path.lstrip('/')


def _pg_with_dbname(url, name):
    return urlunparse(urlparse(url)._replace(path='/' + name))


def _pg_admin(url, sql):
    """Run CREATE/DROP DATABASE (outside a transaction) on the server of `url`, connected to its database."""
    import psycopg2
    try:
        conn = psycopg2.connect(_pg_url(url))
    except psycopg2.OperationalError as err:
        raise BackupError(database_problem(err)) from None
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
    except psycopg2.Error as err:
        raise BackupError(f'{" ".join(sql.split()[:2])} 失败 (failed): {str(err).strip().splitlines()[0]}') from None
    finally:
        conn.close()


def database_problem(err):
    """One clear line for a database that cannot be reached, does not exist or is locked by another writer."""
    text = str(err).strip()
    first = text.splitlines()[0] if text else type(err).__name__
    if 'database is locked' in text or 'database is busy' in text:
        return ('数据库正被另一个写入进程锁定，请稍后重试 (the database is locked by another writer; '
                'try again in a moment)')
    if 'does not exist' in text and 'database' in text:
        return (f'数据库不存在，请先创建（如 createdb）：{first} '
                f'(the database named in DATABASE_URL does not exist; create it first)')
    if 'unable to open database file' in text:
        return f'无法打开数据库文件 (cannot open the SQLite database file): {first}'
    if 'could not connect' in text or 'Connection refused' in text or 'could not translate host' in text:
        return f'无法连接数据库服务器 (cannot reach the database server): {first}'
    return f'数据库错误 (database error): {first}'


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

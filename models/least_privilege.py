"""A least-privilege PostgreSQL role for the running application: it may read and write the workflow tables and
append to the audit history, but it does not own the audit tables, so it cannot drop, disable or replace their
guards, TRUNCATE them, or UPDATE/DELETE audit records. The owner (who runs `upgrade-db`) keeps those rights."""
from .db import database, is_sqlite
from .schema import ALL_MODELS

# audit table → what the application does to it (models.audit_guards refuses the rest of these, row by row)
AUDIT_PRIVILEGES = {'audit_record': 'SELECT, INSERT', 'audit_personal': 'SELECT, INSERT, UPDATE',
                    'audit_head': 'SELECT, UPDATE', 'schema_info': 'SELECT'}


def grant_statements(role):
    """The GRANTs that let `role` run the application (and nothing more on the audit tables)."""
    quoted = '"' + role.replace('"', '""') + '"'
    statements = [f'GRANT USAGE ON SCHEMA public TO {quoted}']
    for model in ALL_MODELS:
        table = model._meta.table_name
        privileges = AUDIT_PRIVILEGES.get(table, 'SELECT, INSERT, UPDATE, DELETE')
        statements.append(f'GRANT {privileges} ON "{table}" TO {quoted}')
    statements.append(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}')
    return statements


def grant_to(role):
    """Run the GRANTs on the bound PostgreSQL database (as the tables' owner)."""
    if is_sqlite():
        raise ValueError('SQLite has no roles: protect the database file with file permissions instead')
    with database.atomic():
        for sql in grant_statements(role):
            database.execute_sql(sql)

"""Django's PostgreSQL backend with a client-side deadline on every wait for the server.

The database entry's CLIENT_TIMEOUT (seconds; settings.py reads it from the environment) is
how long a query, a commit, a rollback or the health check of a reused connection may wait
for an answer before omsportal.postgresql.deadline cuts the connection. It is set above the
server's statement_timeout, so a slow query ends with the server's own error first.
"""

from django.db.backends.postgresql import base

from .deadline import watchdog


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.client_timeout = float(self.settings_dict.get("CLIENT_TIMEOUT") or 0)
        if self.client_timeout:
            self.execute_wrappers.append(self._with_deadline)

    def _deadline(self):
        return watchdog.deadline(self.client_timeout, lambda: self.connection)

    def _with_deadline(self, execute, sql, params, many, context):
        with self._deadline():
            return execute(sql, params, many, context)

    def is_usable(self):
        with self._deadline():
            return super().is_usable()

    # The public methods atomic() and autocommit code call, not Django's private _commit().
    def commit(self):
        with self._deadline():
            return super().commit()

    def rollback(self):
        with self._deadline():
            return super().rollback()

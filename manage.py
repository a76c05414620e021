#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omsportal.settings")
    from django.core.management import execute_from_command_line

    from omsportal.logs import log_command_errors

    log_command_errors()
    try:
        execute_from_command_line(sys.argv)
    except Exception:
        from omsportal.logs import log_command_failure

        if not log_command_failure(sys.argv):
            raise
        sys.exit(1)

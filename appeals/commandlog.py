"""What a scheduled command says of its run, where the deployment's logs can read it."""

import logging

from django.conf import settings


def say(command, logger: logging.Logger, message: str, *, level: int = logging.INFO) -> None:
    """What a scheduled command did («Отправлено: 3, не удалось: 0»): with JSON logs a line of
    the command's own logger, since a plain line among them is one a log collector cannot
    read; with text logs the plain line, for the person at the terminal (stderr for a warning).
    """
    if settings.LOG_FORMAT == "json" and logging.getLogger().handlers:
        logger.log(level, "%s", message)
    elif level >= logging.WARNING:
        command.stderr.write(message)
    else:
        command.stdout.write(message)

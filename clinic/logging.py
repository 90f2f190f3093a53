"""Log hygiene: the manage token in a booking's link is a credential and must not reach logs."""

import logging
import re

# Booking links: /appointments/<token>/... on the site and under /api/v1/.
TOKEN_IN_PATH = re.compile(r"(/appointments/)[A-Za-z0-9_\-]{20,}")


class RedactBookingTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_IN_PATH.sub(r"\1[token]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True

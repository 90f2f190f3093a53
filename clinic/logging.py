"""Log hygiene: the tokens in private links are credentials and must not reach logs.

- a booking's manage link: /appointments/<token>/... on the site and under /api/v1/;
- a practitioner's calendar feed: /schedule/feed/<token>.ics, which also opens patients' names;
- a place on the waiting list and an offered time: /waitlist/<token>/, /waitlist/offers/<token>/.
"""

import logging
import re

TOKEN_IN_PATH = re.compile(r"(/appointments/|/schedule/feed/|/waitlist/(?:offers/)?)[A-Za-z0-9_\-]{20,}")


class RedactBookingTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_IN_PATH.sub(r"\1[token]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True

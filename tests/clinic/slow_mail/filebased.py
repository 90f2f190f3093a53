"""Django's file email backend, slow: it marks that it holds an email, waits, then writes it.
The worker-kill test kills the worker during that wait, with an email claimed and not sent."""

import os
import time
import uuid

from django.core.mail.backends import filebased


class EmailBackend(filebased.EmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            open(os.path.join(self.file_path, f"in-hand-{uuid.uuid4().hex}.marker"), "w").close()
            time.sleep(0.5)
            super().send_messages([message])
        return len(email_messages)

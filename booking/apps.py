from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        from booking import notifications as emails
        from clinic import worker

        for order, name, due, send in [
            (20, "confirmations", emails.due_confirmations, emails.send_confirmation),
            (21, "series confirmations", emails.due_series_confirmations, emails.send_series_confirmation),
            (22, "move notices", emails.due_move_notices, emails.send_move_notice),
            (23, "cancellation notices", emails.due_cancellation_notices, emails.send_cancellation_notice),
            (24, "reminders", emails.due_reminders, emails.send_reminder),
            (25, "aftercare", emails.due_aftercare, emails.send_aftercare),
        ]:
            worker.register(name, order=order, due=due, send=send)

class ApplicationError(Exception):
    """The one domain exception: a rule was broken. `message` is Chinese and shown to the user as is.

    `field` names the form field or column at fault, where there is one; `extra` carries details
    (e.g. per-row import errors) for the API response.
    """

    def __init__(self, message, *, field=None, extra=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """What was sent contradicts what is already recorded under the same client id (a phone bug, or two phones):
    answered 409, never silently with the first record. `existing` is the record as it stands."""

    status_code = 409

    def __init__(self, message, *, existing, field=None, extra=None):
        super().__init__(message, field=field, extra=extra)
        self.existing = existing

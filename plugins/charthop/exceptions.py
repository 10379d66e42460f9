"""Exceptions raised by the ChartHop provider.

Errors that a task retry cannot fix (a bad token, an unknown org, an invalid query) derive from
``AirflowFailException``, so Airflow fails the task at once instead of spending its retries.
"""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException, AirflowFailException


class ChartHopError(AirflowException):
    """Base class of every error raised by this provider."""


class ChartHopConfigError(ChartHopError, AirflowFailException):
    """A connection or operator argument is missing or invalid."""


class ChartHopApiError(ChartHopError):
    """ChartHop returned an error status for a request.

    :param message: what failed and what to do about it.
    :param status_code: the HTTP status ChartHop returned, or ``None`` when no response arrived.
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ChartHopBadRequestError(ChartHopApiError, AirflowFailException):
    """HTTP 400: ChartHop rejected a parameter, such as a field code or a Carrot ``q`` expression."""


class ChartHopAuthenticationError(ChartHopApiError, AirflowFailException):
    """HTTP 401: ChartHop rejected the API token."""


class ChartHopPermissionError(ChartHopApiError, AirflowFailException):
    """HTTP 403: the token is valid but its app lacks a permission the request needs."""


class ChartHopNotFoundError(ChartHopApiError, AirflowFailException):
    """HTTP 404: the org, or the entity in the path, does not exist."""


class ChartHopRetryExhaustedError(ChartHopApiError):
    """A request kept failing with a retryable error (429, 5xx, 202 or a transport error) until the retry
    budget ran out. An Airflow task retry may succeed later, so this is not a fail-fast error."""


class ChartHopPagingError(ChartHopError):
    """Paging did not make progress: ChartHop sent a cursor or a page that it had already sent."""


class ChartHopCountMismatchError(ChartHopError):
    """The rows fetched differ from the total that countJobs reports for the same query and date."""


class ChartHopWarehouseError(ChartHopError):
    """Writing to the warehouse failed or the warehouse connection is unsuitable."""


class ChartHopProcessFailedError(ChartHopError, AirflowFailException):
    """A ChartHop process (such as a CSV import) ended in ERROR or with a status this package does not know."""


class ChartHopProcessRowErrorsError(ChartHopProcessFailedError):
    """A ChartHop import finished but rejected some rows, and the row-error policy is to fail."""


class ChartHopProcessTimeoutError(ChartHopError):
    """A ChartHop process did not finish before the wait's deadline. A task retry resumes waiting."""


class PayrollError(ChartHopError, AirflowFailException):
    """Base class of the payroll preparation errors. A task retry cannot fix the file, so the task fails at once."""


class PayrollMappingError(PayrollError, ChartHopConfigError):
    """The payroll mapping file is missing, is not valid YAML, or has a missing or invalid key."""


class PayrollEncodingError(PayrollError):
    """The payroll file is not UTF-8, for example a Latin-1 or Windows-1252 export.

    :param message: the file, the byte offset and line of the first invalid byte, and how to convert the file.
    :param byte_offset: 0-based offset of the first invalid byte in the file.
    :param line_number: 1-based line of the file that contains it.
    """

    def __init__(self, message: str, *, byte_offset: int | None = None, line_number: int | None = None) -> None:
        super().__init__(message)
        self.byte_offset = byte_offset
        self.line_number = line_number


class PayrollValidationError(PayrollError):
    """The payroll data has problems, so nothing was prepared for ChartHop.

    :param message: every listed problem with its file, row, line, column and value, and what to do.
    :param problems: the listed problems, at most the cap the validator was given.
    :param total: the number of problems found, which can exceed ``len(problems)``.
    """

    def __init__(self, message: str, *, problems: list[object] | tuple[object, ...] = (), total: int = 0) -> None:
        super().__init__(message)
        self.problems = list(problems)
        self.total = total


class PayrollChangeShareError(PayrollError):
    """The payroll would change a larger share of the roster than allowed.

    :param changed_count: people the import would create or change.
    :param roster_count: people in the current roster.
    :param max_share: the allowed share, between 0 and 1.
    """

    def __init__(self, message: str, *, changed_count: int, roster_count: int, max_share: float) -> None:
        super().__init__(message)
        self.changed_count = changed_count
        self.roster_count = roster_count
        self.max_share = max_share


class PayrollRunFailedError(PayrollError):
    """A payroll run's audit step reports that an earlier step of the run failed."""

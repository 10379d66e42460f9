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
    """ChartHop answered a request with an error status.

    :param message: what failed and what to do about it.
    :param status_code: the HTTP status ChartHop answered, or ``None`` when no response arrived.
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

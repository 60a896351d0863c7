"""The service layer: one function per user-facing operation, the only thing front-ends call.

Each operation takes a :class:`services.context.ServiceContext` (the store, the city configuration, who
asks) and a typed request (a frozen dataclass of filters and options), checks the caller's role, and returns
a result object with ``.to_frame()``. The CLI, the Streamlit pages and the HTTP API parse input, call one
function here and draw or write the result, so the same request gives the same answer everywhere. No SQL
lives here either: reads go through :mod:`cases.repository`, writes through the ``cases`` write paths.
"""

from services.context import ServiceContext, open_context
from services.errors import NotAllowedError, ServiceError

__all__ = ["NotAllowedError", "ServiceContext", "ServiceError", "open_context"]

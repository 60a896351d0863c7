"""The service layer: one function per user-facing operation, the only thing front-ends call.

Each operation takes a :class:`services.context.ServiceContext` (the store, the city configuration, who
asks) and a typed request (a frozen dataclass of filters and options), checks the caller's role, and returns
a result object with ``.to_frame()``. The CLI, the Streamlit pages and the HTTP API parse input, call one
function here and draw or write the result, so the same request gives the same answer everywhere. No SQL
lives here either: reads go through :mod:`cases.repository`, writes through the ``cases`` write paths.

=====================  ======================================================================================
module                 operations
=====================  ======================================================================================
``study``              the filters, the study area (the one place the cell universe is decided), cell history
``analysis``           ``hotspots``, ``recurring``, ``emerging``
``forecasting``        ``forecast``, ``backtest``
``coverage``           ``coverage_report``, ``neglect``, ``effectiveness``
``deployment``         ``beats_plan``, ``staffing``, ``route``
``field``              an inspector's grid: ``field_view``, ``record_action``, ``report_problem``
``cases``              every lifecycle action (``register``, ``dispatch`` … ``close``), role-checked
``kpi``                ``kpi_table``, ``dashboard``
``users``              ``authenticate``, ``create_user``, ``deactivate_user``, ``change_role`` …
``imports``            ``import_file`` (cases, inspectors, assignments, areas, unit grids), ``import_tracks``
``open311``            GeoReport v2: ``discovery``, ``service_list``, ``find_requests``, ``post_request`` …
``api_keys``           ``add_key``, ``list_keys``, ``revoke_key``, ``authenticate_key`` (HTTP clients)
``field_api``          inspectors' phones: ``issue_token``, ``token_actor``, ``tasks``, ``upload_track``
=====================  ======================================================================================
"""

from services.context import ServiceContext, open_context
from services.errors import NotAllowedError, ServiceError

__all__ = ["NotAllowedError", "ServiceContext", "ServiceError", "open_context"]

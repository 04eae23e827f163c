"""The gateway's settings (`WINNOW_GATEWAY_*`): limits on bodies, slow clients and rates.

A base of ``winnow.settings.Settings`` (read from the environment with the rest), kept apart so
``settings.py`` stays readable.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class GatewaySettings(BaseModel):
    """`WINNOW_GATEWAY_*` fields; use them through ``Settings``."""

    gateway_max_body_bytes: int = Field(
        4_194_304, ge=1024, description="Largest request body `POST /v1/events` accepts (413)."
    )
    gateway_max_batch: int = Field(
        500, ge=1, description="Most events one `POST /v1/events` request may carry (413)."
    )
    gateway_header_timeout_s: float = Field(
        10.0,
        gt=0,
        description="Seconds for a request's headers to arrive (from connect or last answer): 408.",
    )
    gateway_body_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Seconds for the whole body of `POST /v1/events` to arrive; else 408.",
    )
    gateway_keep_alive_s: float = Field(
        5.0, gt=0, description="An idle keep-alive connection is closed after this many seconds."
    )
    gateway_limit_concurrency: int = Field(
        1000,
        ge=1,
        description="Most connections plus requests one gateway replica serves; past it, 503.",
    )
    gateway_rate_limit_per_s: float = Field(
        20.0, gt=0, description="Requests per second per API key, per replica (token bucket)."
    )
    gateway_rate_limit_burst: int = Field(
        40, ge=1, description="Requests an idle API key may make at once (per replica) before 429."
    )
    gateway_auth_failures_per_s: float = Field(
        1.0,
        gt=0,
        description="Failed auths per second per client address before 429, with no key lookup.",
    )
    gateway_auth_failure_burst: int = Field(
        20, ge=1, description="Failed authentications one client address may make at once."
    )
    gateway_dedup_window_s: float = Field(
        604_800.0,
        gt=0,
        description="An event id accepted again within this window (per tenant) is reported as "
        "a duplicate and not produced twice.",
    )

"""Media settings: URL imports (SSRF limits) and conversion speed."""

from __future__ import annotations

import ipaddress

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.media.convert import EncodeSettings
from shared.media.url_import import UrlPolicy


class MediaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Allow plain http:// imports; unset means only in local mode.
    import_allow_http: bool | None = None
    # Comma-separated CIDRs imports may reach despite the SSRF rules (e.g. 127.0.0.1/32 for the local stack).
    import_allowed_networks: str = ""
    import_timeout_seconds: float = Field(default=600.0, gt=0)
    import_read_timeout_seconds: float = Field(default=30.0, gt=0)
    # x264 speed/quality trade-off for conversions: ultrafast … medium.
    convert_preset: str = "veryfast"
    convert_max_bitrate_bps: int = Field(default=12_000_000, ge=500_000)

    def url_policy(self, max_bytes: int, *, is_local: bool) -> UrlPolicy:
        """`is_local`: the product runs locally (plain http:// imports are then allowed unless set)."""
        networks = tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in self.import_allowed_networks.split(",") if part.strip()
        )
        allow_http = is_local if self.import_allow_http is None else self.import_allow_http
        return UrlPolicy(allow_http=allow_http, allowed_networks=networks, max_bytes=max_bytes,
                         timeout_seconds=self.import_timeout_seconds,
                         read_timeout_seconds=self.import_read_timeout_seconds)

    def encode_settings(self) -> EncodeSettings:
        return EncodeSettings(preset=self.convert_preset, max_bitrate_bps=self.convert_max_bitrate_bps)


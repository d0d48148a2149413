"""Settings from the environment (prefix NIGHTCARE_), refusing placeholder secrets in production."""
from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispatch.timeutil import Clock, current_clock, use_clock

# A fixed key so that a development database keeps working across restarts. It is public
# (it is in this file), so production refuses it.
DEVELOPMENT_KEYSAFE_KEY = "bmlnaHRjYXJlLWRldmVsb3BtZW50LW9ubHkta2V5ISE="
DEFAULT_DATA_DIR = Path(".nightcare")


def _normalise_database_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class HandoverEndpoint(BaseModel):
    """Where an organisation's morning handover Bundle is POSTed (its FHIR server), with its bearer token."""

    url: str = Field(pattern=r"^https?://")
    token: SecretStr = SecretStr("")


class FhirSource(BaseModel):
    """One organisation's FHIR R4 record system: where it is and how to sign in (a bearer token, or OAuth2 client
    credentials: client_id, client_secret, token_url). Secrets are SecretStr: never printed or logged."""

    base_url: str
    name: str = ""  # shown to people ("the record system of <name>"); default: the organisation's code
    token: SecretStr | None = None
    client_id: str = ""
    client_secret: SecretStr | None = None
    token_url: str = ""
    # The FHIR identifier system of each of our ClientExternalId systems (e.g. {"ecd": "https://org.example/ecd"});
    # a system not listed is sent as it is.
    identifier_systems: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_credential(self) -> FhirSource:
        if self.client_id and not (self.client_secret and self.token_url):
            raise ValueError("OAuth2 client credentials need client_id, client_secret and token_url")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIGHTCARE_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATA_DIR / 'nightcare.db'}",
        validation_alias=AliasChoices("NIGHTCARE_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    # The database owner's URL, for `nightcare db upgrade` and `nightcare db grant` (PostgreSQL: the service
    # itself runs as a role that can only read and write rows). Empty: DATABASE_URL.
    migration_database_url: str = ""
    # Fernet key (urlsafe base64, 32 bytes) encrypting key-safe codes at rest.
    keysafe_key: str = DEVELOPMENT_KEYSAFE_KEY
    # Older keys still accepted for decryption while a rotation is under way.
    keysafe_previous_keys: list[str] = Field(default_factory=list)
    token_ttl_minutes: int = Field(default=12 * 60, ge=1, le=7 * 24 * 60)
    region_timezone: str = "Europe/Amsterdam"
    default_phone_region: str = "NL"
    # Argon2id cost; production keeps the library's defaults (64 MiB, 3 passes).
    password_memory_kib: int = Field(default=65536, ge=8192)
    password_time_cost: int = Field(default=3, ge=1)
    # Login (dispatch/auth/throttle.py): Argon2 checks running at once per worker process, and how long a
    # login waits for one of them before it gets a 429.
    max_concurrent_hashes: int = Field(default=2, ge=1, le=16)
    hash_slot_wait_s: float = Field(default=1.0, gt=0, le=30)
    # Failed logins allowed per username and per source address, tier by tier ("N/period", ";" between
    # tiers, as the `limits` package writes them): the Retry-After grows as the failures go on.
    login_limits_per_username: str = "5/minute;20/hour;100/day"
    login_limits_per_address: str = "30/minute;300/hour;1000/day"
    # Where the counts are kept: memory:// (each worker process counts on its own) or a store the workers
    # share, e.g. redis://host:6379 (install limits[async-redis]).
    rate_limit_storage: str = "memory://"
    # A throttled login is answered this late, so a flood that waits for its answers slows down.
    throttled_login_delay_s: float = Field(default=1.0, ge=0, le=10)
    trust_forwarded_for: bool = False
    # The service is reached over HTTPS (directly or behind a proxy): answers carry Strict-Transport-Security.
    tls: bool = False
    # Region settings for triage: the protocol in use and the response targets per urgency.
    protocol_id: str = "nightcare-regional-night"
    # New triages use this published version of it (NIGHTCARE_PROTOCOL_VERSION), e.g. to keep v1 in use while v2 is
    # reviewed; unset: the newest published version.
    protocol_version: int | None = Field(default=None, ge=1, le=100_000)
    target_u2_minutes: int = Field(default=30, ge=1, le=24 * 60)
    target_u3_minutes: int = Field(default=120, ge=1, le=24 * 60)
    # An offer waits without escalation until it is due: a call's visit at once, a planned visit from this many
    # minutes before its window starts (docs/visits.md, "Offers that are not answered").
    offer_lead_minutes: int = Field(default=45, ge=0, le=24 * 60)
    # Assignment: travel model, where a nurse without a known position is assumed to be, solver budget.
    speed_kmh: float = Field(default=50.0, gt=0, le=200)
    road_factor: float = Field(default=1.3, ge=1, le=5)
    base_lat: float = Field(default=52.9929, ge=-90, le=90)  # Assen centre
    base_lon: float = Field(default=6.5642, ge=-180, le=180)
    plan_lookahead_hours: int = Field(default=12, ge=1, le=48)
    solve_time_limit_s: float = Field(default=0.15, ge=0, le=30)
    # Lateness weight per second late (dispatch policy): see dispatch/assignment/core.py Weights.
    weight_u1: int = Field(default=100, ge=0, le=10_000)
    weight_u2: int = Field(default=100, ge=0, le=10_000)
    weight_u3: int = Field(default=3, ge=0, le=10_000)
    weight_planned: int = Field(default=2, ge=0, le=10_000)
    weight_urgent_waiting: int = Field(default=3, ge=0, le=10_000)  # per second a U0-U2 client waits
    # API requests in flight per worker; keep well below the threadpool size (40). See concurrency.py.
    max_concurrent_requests: int = Field(default=16, ge=1, le=32)
    request_queue_wait_s: float = Field(default=30.0, gt=0)
    # The largest request body accepted (a protocol document is the largest thing anyone sends): 413 beyond it.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Responders (dispatch/responders): heartbeat on the live channel; a job not accepted within
    # offer_sms_after_s (counted from when it is due: offer_lead_minutes) goes out by SMS too, and after
    # offer_alert_after_s the operators are alerted and it is re-planned to another nurse (a hand assignment stays).
    live_heartbeat_s: float = Field(default=20.0, gt=0, le=300)
    # How often an open socket's token is checked again: a logout, a disabled user or an expired login ends it.
    live_token_check_s: float = Field(default=5.0, gt=0, le=60)
    # The nurses' outbox is kept this long (a night and its morning), then pruned: no old addresses replayed.
    outbox_keep_hours: int = Field(default=16, ge=1, le=24 * 14)
    offer_sms_after_s: int = Field(default=60, ge=5, le=3600)
    offer_alert_after_s: int = Field(default=180, ge=10, le=7200)
    escalation_tick_s: float = Field(default=5.0, gt=0, le=60)
    # The operators' console: the map's tiles (any XYZ tile server; with none reachable the map shows its markers
    # on a plain background), and when the board offers to hand calls to the backup triage team.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_attribution: str = "© OpenStreetMap contributors"
    overflow_after_s: int = Field(default=120, ge=10, le=3600)  # a call waiting this long for triage
    overflow_waiting_calls: int = Field(default=3, ge=1, le=100)  # or this many waiting at once
    # The nurse's phone asks for the night-bag check from this long before her shift starts.
    bag_check_lead_minutes: int = Field(default=120, ge=0, le=12 * 60)
    # Twilio (adapters/twilio.py). Without an account SID and token, SMS is not sent (operators are
    # alerted instead) and the voice/SMS webhooks answer 503.
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from_number: str = ""  # the region's SMS sender, E.164
    operator_line: str = ""  # where phone calls are put through to (the operators' queue number), E.164
    public_base_url: str = ""  # the URL Twilio calls us at (signatures cover it); default: the request's URL
    # Geocoding (adapters/geocoding): `pdok` asks PDOK Locatieserver (the Dutch national geocoder), `local` a table
    # of the demo region (adapters/geocoding/demo_addresses.csv). Unset: pdok in production, local elsewhere.
    geocoder: Literal["local", "pdok"] | None = None
    pdok_url: str = "https://api.pdok.nl/bzk/locatieserver/search/v3_1"
    geocoder_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # Client import (dispatch/clients/importer.py): the largest file and the most rows one import takes.
    import_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    import_max_rows: int = Field(default=5000, ge=1, le=100_000)
    # The morning handover (dispatch/handover): the night of day D runs from D at this local time to D+1 at it;
    # its handover is final (and pushed) from then on.
    handover_at: time = time(7, 0)
    # Per organisation code, the FHIR endpoint the handover Bundle is POSTed to, as JSON:
    # {"de-brink": {"url": "https://fhir.example/Bundle", "token": "..."}}. The token is never logged.
    handover_endpoints: dict[str, HandoverEndpoint] = Field(default_factory=dict)
    handover_push_tick_s: float = Field(default=60.0, gt=0, le=3600)
    # A failed push is tried again after backoff, doubling per attempt (capped at an hour), up to max attempts.
    handover_push_backoff_s: float = Field(default=60.0, gt=0, le=3600)
    handover_push_max_attempts: int = Field(default=8, ge=1, le=100)
    handover_push_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Partner record systems (adapters/fhir): organisation code -> FhirSource, as JSON in NIGHTCARE_FHIR_SOURCES.
    # Outside production an organisation without one reads the demo record system this service serves itself
    # (/demo-fhir/<code>/, at demo_fhir_base_url or else the address the request came in at).
    fhir_sources: dict[str, FhirSource] = Field(default_factory=dict)
    record_timeout_s: float = Field(default=3.0, gt=0, le=60)  # a whole summary fetch, all its requests together
    # Fetched summaries are kept (encrypted) for the night and purged at this local time the morning after.
    record_purge_local: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    demo_fhir_base_url: str = ""
    # The demo record systems' credential (a bearer token for most, the OAuth2 client secret for one).
    demo_fhir_secret: SecretStr = SecretStr("demo-fhir-secret-not-for-production")
    # Development and tests only: the service's clock starts at this moment and runs on from there
    # (dispatch/timeutil.py), so that what depends on the hour can be tried at any hour.
    clock_start: AwareDatetime | None = None

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        return _normalise_database_url(value)

    @field_validator("keysafe_key")
    @classmethod
    def _fernet_key(cls, value: str) -> str:
        try:
            Fernet(value.encode())
        except Exception:  # noqa: BLE001 - translate to a settings error
            raise ValueError("NIGHTCARE_KEYSAFE_KEY must be a Fernet key (urlsafe base64 of 32 bytes)") from None
        return value

    @field_validator("login_limits_per_username", "login_limits_per_address")
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a list of limits such as '5/minute;20/hour'") from None
        return value

    @model_validator(mode="after")
    def _escalation_order(self) -> Settings:
        if self.offer_alert_after_s <= self.offer_sms_after_s:
            raise ValueError("NIGHTCARE_OFFER_ALERT_AFTER_S must be longer than NIGHTCARE_OFFER_SMS_AFTER_S")
        return self

    @model_validator(mode="after")
    def _no_placeholders_in_production(self) -> Settings:
        if self.environment == "production":
            if self.keysafe_key == DEVELOPMENT_KEYSAFE_KEY:
                raise ValueError(
                    "NIGHTCARE_KEYSAFE_KEY is the public development key; set a real key in production "
                    "(generate one with `nightcare keygen`)"
                )
            if self.database_url.startswith("sqlite"):
                raise ValueError("production needs PostgreSQL: set DATABASE_URL")
            if self.clock_start is not None:
                raise ValueError("NIGHTCARE_CLOCK_START is for development and tests; production runs on real time")

        return self

    def target_minutes(self, urgency: str) -> int:
        """Minutes from the call to the nurse's arrival. U0/U1 with a nurse sent use the U2 target."""
        return self.target_u3_minutes if urgency == "U3" else self.target_u2_minutes

    def start_clock(self) -> None:
        """Start the process's clock at `clock_start`, when one is set (otherwise it stays real time)."""
        if self.clock_start is not None and current_clock().start != self.clock_start:  # not again: no jump back
            use_clock(Clock(self.clock_start))

    @property
    def migration_url(self) -> str:
        """Where migrations run: the owner's URL, or the service's own when no owner's URL is set."""
        return self.migration_database_url or self.database_url

    @property
    def resolved_geocoder(self) -> str:
        return self.geocoder or ("pdok" if self.environment == "production" else "local")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

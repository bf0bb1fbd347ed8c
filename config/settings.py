"""Settings for the Integrations Portal, read from the environment (and `.env`) with django-environ."""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from portal.addresses import parse_network

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")


# --- Core -------------------------------------------------------------------


def _secret_key_from_file(path: Path) -> str:
    """Generate the key once and keep it, so a restart does not sign everyone out.

    O_EXCL makes the first of several starting workers the only writer.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


SECRET_KEY = env.str("SECRET_KEY", default="") or _secret_key_from_file(BASE_DIR / ".secret_key")
# Earlier keys, still accepted for what they signed or encrypted (sessions, TOTP secrets): how SECRET_KEY is rotated.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")
# Bearer token that opens GET /metrics (Prometheus); unset, /metrics answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Serves bench/urls.py's unauthenticated reference views under /bench/ for `make bench`; never in a deployment.
BENCHMARK_VIEWS = env.bool("BENCHMARK_VIEWS", default=False)

INSTALLED_APPS = [
    # Our apps come before oauth2_provider: ours defines `createapplication`, and the first wins.
    "portal",
    "applications",
    "api",
    "throttle",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Second factors (contract §13): django-otp's device base and TOTP algorithm, django-otp-webauthn's passkeys.
    "django_otp",
    "django_otp_webauthn",
]

MIDDLEWARE = [
    # Before anything reads the client's address: REMOTE_ADDR becomes the one of contract §11 (TRUSTED_PROXIES).
    "ops.clientaddress.ClientAddressMiddleware",
    # Then the request log: it times and logs every request, including those a later middleware answers.
    "ops.requestlog.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the password and before the second factor, a session reaches only the second step and sign-out.
    "portal.middleware.SecondStepMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees a view's database error before any other middleware's handling.
    "ops.outage.DatabaseOutageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.organization",
            ],
        },
    },
]


# --- Database ---------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default="sqlite:///db.sqlite3")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] != ":memory:" and not Path(_db["NAME"]).is_absolute():
        _db["NAME"] = str(BASE_DIR / _db["NAME"])
    # Several server workers write at once: WAL lets readers go on during a write,
    # IMMEDIATE takes the write lock at BEGIN so writers queue on the busy timeout
    # instead of failing with "database is locked" when a read lock cannot be upgraded.
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # While PostgreSQL is down or stuck a request fails within seconds (503, see ops/outage.py)
    # instead of holding a worker: connecting gives up after DATABASE_CONNECT_TIMEOUT seconds,
    # a statement after DATABASE_STATEMENT_TIMEOUT milliseconds (manage.py turns the latter off:
    # migrations and cleartokens may run long on purpose).
    _statement_timeout = env.int("DATABASE_STATEMENT_TIMEOUT", default=5000)
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3))
    if _statement_timeout:
        _db["OPTIONS"]["options"] = f"-c statement_timeout={_statement_timeout}"
_db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
# A connection PostgreSQL dropped (a restart) is replaced on the next request, without a server restart.
_db["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Cache ------------------------------------------------------------------

# Shared by every worker process (never per-process memory). With Redis it holds the
# brute-force counters, and must not evict them (throttle/limits.py checks at start-up);
# otherwise they live in a table of their own (portal.FailureCounter).
CACHES = {"default": env.cache("CACHE_URL", default="dbcache://django_cache")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # An unreachable Redis must cost a request a fraction of a second, not a hang: the callers
    # skip the brute-force checks when the cache fails (throttle/limits.py).
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", env.float("CACHE_CONNECT_TIMEOUT", default=0.5))
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", env.float("CACHE_TIMEOUT", default=0.5))


# --- Authentication ---------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# User passwords keep Django's default (first); client secrets use the fast salted
# SHA-256 hasher, which must be listed here for the toolkit to find it by name.
PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "applications.oauth.hashers.ClientSecretHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Passkeys (portal/twofactor.py): the relying party is the host each request came to, and the origin the page's own,
# so django-otp-webauthn's fixed list of allowed origins stays empty and its check that one is set is silenced.
OTP_WEBAUTHN_RP_ID_CALLABLE = "portal.twofactor.relying_party_id"
OTP_WEBAUTHN_RP_NAME = "Integrations Portal"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]


# --- Email -------------------------------------------------------------------

# Unset: invitation links are only shown to the admin who creates them. Set (smtp://user:pass@host:587,
# django-environ's format): they are also mailed to the invited address.
EMAIL_URL = env.str("EMAIL_URL", default="")
INVITATION_EMAILS = bool(EMAIL_URL)
# Likewise leak reports and expiry notices (contract §12): mailed to the organization's admins when set.
NOTICE_EMAILS = bool(EMAIL_URL)
# Unset, Django's dummy backend: nothing can be sent, not even by mistake (never the console: it would print the link).
vars().update(env.email_url("EMAIL_URL", default="dummymail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Integrations Portal <portal@localhost>")
EMAIL_TIMEOUT = 10


# --- OAuth 2.0 (django-oauth-toolkit) ---------------------------------------

OAUTH2_PROVIDER_APPLICATION_MODEL = "applications.Application"
ACCESS_TOKEN_TTL = env.int("ACCESS_TOKEN_TTL", default=3600)

OAUTH2_PROVIDER = {
    "OAUTH2_SERVER_CLASS": "applications.oauth.server.ClientCredentialsServer",
    "OAUTH2_VALIDATOR_CLASS": "applications.oauth.validator.ApplicationValidator",
    "OAUTH2_BACKEND_CLASS": "applications.oauth.request.TokenRequestBackend",
    "SCOPES_BACKEND_CLASS": "applications.oauth.scopes.ApplicationScopes",
    "CLIENT_SECRET_HASHER": "sha256_salted",
    "CLIENT_SECRET_GENERATOR_LENGTH": 64,
    "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_TTL,
    # Identifiable access tokens (`ipat_…`, contract §6); each application's lifetime is applied by the server class.
    "ACCESS_TOKEN_GENERATOR": "applications.identifiers.generate_access_token",
    # No refresh tokens are issued; a value keeps cleartokens from warning that none is set.
    "REFRESH_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_TTL,
    "ERROR_RESPONSE_WITH_SCOPES": True,
    # Adopt every RFC 9700 behaviour now; TOKEN_STORAGE keeps only a SHA-256 checksum
    # of each access token in the database, never the token itself.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # No flow here uses refresh tokens or redirects; these keep the deploy check strict.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}


def _failure_limit(name: str, default: tuple[int, int], *, formerly: str | None = None) -> tuple[int, int]:
    """A (count, window seconds) pair from `COUNT,SECONDS`; the variable's earlier name is still read."""
    if formerly and name not in os.environ and formerly in os.environ:
        name = formerly
    count, window = env.tuple(name, cast=int, default=default)
    if count < 1 or window < 1:
        raise ImproperlyConfigured(f"{name} must be two positive whole numbers, COUNT,SECONDS.")
    return count, window


# Failed client authentications (token endpoint) and sign-ins (portal) allowed per
# subject in a window that starts with its first failure; a subject that has used them
# all is refused until that window ends (throttle/limits.py). Client IDs and usernames
# count together with the address the failures come from, so failures from one address
# never lock the rightful client or user out at another.
FAILURE_LIMITS = {
    "TOKEN_PER_CLIENT_ADDRESS": _failure_limit(
        "TOKEN_FAILURE_LIMIT_PER_CLIENT_ADDRESS", (10, 300), formerly="TOKEN_FAILURE_LIMIT_PER_CLIENT"
    ),
    "TOKEN_PER_ADDRESS": _failure_limit("TOKEN_FAILURE_LIMIT_PER_ADDRESS", (50, 300)),
    "SIGNIN_PER_USERNAME_ADDRESS": _failure_limit(
        "SIGNIN_FAILURE_LIMIT_PER_USERNAME_ADDRESS", (5, 900), formerly="SIGNIN_FAILURE_LIMIT_PER_USERNAME"
    ),
    "SIGNIN_PER_ADDRESS": _failure_limit("SIGNIN_FAILURE_LIMIT_PER_ADDRESS", (50, 900)),
    # Wrong codes or passkeys at the second step of sign-in, per user from anywhere (contract §13); each also counts
    # toward SIGNIN_PER_ADDRESS.
    "SECOND_STEP_PER_USER": _failure_limit("SECOND_STEP_FAILURE_LIMIT_PER_USER", (5, 900)),
    # Invitation links that do not open (unknown, used, revoked, expired), and refused account creations through one.
    "INVITATION_PER_ADDRESS": _failure_limit("INVITATION_FAILURE_LIMIT_PER_ADDRESS", (20, 900)),
    "INVITATION_SIGNUP_PER_ADDRESS": _failure_limit("INVITATION_SIGNUP_FAILURE_LIMIT_PER_ADDRESS", (10, 900)),
}


# Token requests are a handful of short fields; anything larger is refused before parsing.
TOKEN_REQUEST_MAX_BYTES = 16 * 1024

# Where the keys that sign GitHub secret scanning's leak reports are published (contract §12). Operators who
# forward reports of their own point it at their own keys.
SECRET_SCANNING_KEYS_URL = env.str(
    "SECRET_SCANNING_KEYS_URL", default="https://api.github.com/meta/public_keys/secret_scanning"
)


def _origins(name: str) -> list[str]:
    """Origins (`http://host:port`, comma-separated): a scheme and a host, with nothing after them."""
    origins = env.list(name, default=[])
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ImproperlyConfigured(f"{name}: {origin!r} is not an origin such as http://127.0.0.1:8080.")
    return origins


# Federated credentials' issuers served from these origins skip the https and public-address rules of contract §10:
# a local issuer in development and tests. Nothing else does.
FEDERATION_INSECURE_ISSUERS = _origins("FEDERATION_INSECURE_ISSUERS")


# --- REST API ----------------------------------------------------------------

REST_FRAMEWORK = {
    # Secure by default: every API view needs a bearer token holding the scope the catalog names for it.
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasRequiredScope"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Integrations Portal API",
    "DESCRIPTION": (
        "The organization's verifiable credentials, applications and profile. Get an access token from "
        "`POST /oauth/token` with the client credentials grant, then send `Authorization: Bearer <token>`; "
        "each operation needs the scope it names. In this page: Authorize, enter the client ID and secret, "
        "then Try it out.\n\n"
        "The authorization server metadata (RFC 8414) at "
        "[/.well-known/oauth-authorization-server](/.well-known/oauth-authorization-server) names the token "
        "endpoint, `POST /oauth/revoke` (RFC 7009) to revoke a token the application no longer needs, and "
        "`POST /oauth/introspect` (RFC 7662) to ask whether one of its tokens is still active and what it allows."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}


# --- Static files -----------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


# --- Internationalisation ---------------------------------------------------

# Language, translation and aware datetimes keep Django's defaults.
TIME_ZONE = "UTC"


# --- HTTP security ----------------------------------------------------------

# No inline script or style and no outside host, on every page including the API docs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the icons Swagger UI's stylesheet embeds.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

SECURE = env.bool("SECURE", default=False)
# Django's defaults already give HttpOnly, SameSite=Lax session and CSRF cookies, X-Frame-Options: DENY,
# nosniff and Referrer-Policy: same-origin (tests/security/test_headers.py holds them to it).
if SECURE:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL] if PUBLIC_BASE_URL else [])


def _trusted_proxies() -> tuple:
    """TRUSTED_PROXIES, parsed once at start; a process refuses to start on an entry that is no address or range."""
    proxies = []
    for entry in env.list("TRUSTED_PROXIES", default=[]):
        if not entry.strip():
            continue
        try:
            proxies.append(parse_network(entry.strip()))
        except ValueError as error:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from None
    return tuple(proxies)


# Addresses and CIDR ranges of the proxies and load balancers in front of the servers: only from one of them is
# X-Forwarded-For read, for the client's address (ops/clientaddress.py). Unset, the peer is the client.
TRUSTED_PROXIES = _trusted_proxies()


# --- Logging ----------------------------------------------------------------

# LOG_FORMAT=json: one JSON object per line (ops/logging.py); the default is readable text.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")

# Error reports hide the locals of every frame marked @sensitive_variables (the token
# endpoint, the one-time reveal), with DEBUG on too: those frames hold secrets.
DEFAULT_EXCEPTION_REPORTER_FILTER = "ops.logging.SecretsHiddenReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "ops.logging.RedactSecretsFilter"}},
    "formatters": {
        "text": {"format": "[%(asctime)s] %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "ops.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secrets"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The toolkit logs client IDs and request details at DEBUG; keep it quiet.
    "loggers": {
        "oauth2_provider": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
        # runserver's and the test live server's request lines go through the same redaction.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

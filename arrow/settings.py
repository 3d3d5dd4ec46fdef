"""Django settings, driven by the environment.

Secrets that `make run` needs on a fresh machine (SECRET_KEY, DEVICE_LOOKUP_API_KEY) are generated
once by `manage.py arrow_setup` and persisted under var/; this module only reads them. A service key
is never given a default value here: with none configured the service endpoints refuse every call.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ARROW_VAR_DIR", BASE_DIR / "var"))


def _persisted(name: str) -> str:
    """The environment value of *name*, else the value `arrow_setup` persisted in var/, else ''."""
    value = os.environ.get(name, "")
    if value:
        return value
    path = VAR_DIR / name.lower()
    return path.read_text().strip() if path.exists() else ""


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _flag("ARROW_DEBUG")
# Tests and the first `arrow_setup` run may start without a persisted key; `make run` writes one
# before serving. The placeholder starts with "django-insecure" so that `manage.py check --deploy`
# (security.W009) names it on a production host where SECRET_KEY was forgotten.
SECRET_KEY = _persisted("SECRET_KEY") or "django-insecure-only-before-arrow-setup-has-run"
ALLOWED_HOSTS = [h for h in os.environ.get("ARROW_ALLOWED_HOSTS", "*").split(",") if h]

# Comma-separated: several keys are accepted at once so that a key can be rotated without downtime.
DEVICE_LOOKUP_API_KEYS: tuple[str, ...] = tuple(
    key.strip() for key in _persisted("DEVICE_LOOKUP_API_KEY").split(",") if key.strip()
)
if not all(key.isascii() for key in DEVICE_LOOKUP_API_KEYS):
    # HTTP headers reach Django decoded as Latin-1: a key outside ASCII could never match.
    raise ImproperlyConfigured(
        "DEVICE_LOOKUP_API_KEY holds a key with non-ASCII characters, which no device could "
        "ever send as an HTTP header: use ASCII only (manage.py arrow_setup generates one)"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tables2",
    "django_filters",
    "axes",
    "inventory",
]

MIDDLEWARE = [
    "arrow.middleware.TrustedProxyMiddleware",
    "arrow.middleware.HostileInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

# The service endpoints (/api/inventory/, devices with the service key) run with only these in
# production (arrow/wsgi.py): no sessions, cookies, messages, CSRF or logins concern a device.
SERVICE_MIDDLEWARE = [
    "arrow.middleware.TrustedProxyMiddleware",
    "arrow.middleware.HostileInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

# Benchmark only: each response tells how many SQL statements it ran (see arrow/querycount.py).
if _flag("ARROW_COUNT_QUERIES"):
    MIDDLEWARE.insert(0, "arrow.querycount.QueryCountMiddleware")
    SERVICE_MIDDLEWARE.insert(0, "arrow.querycount.QueryCountMiddleware")

ROOT_URLCONF = "arrow.urls"
WSGI_APPLICATION = "arrow.wsgi.application"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'arrow.sqlite3'}",
        conn_max_age=int(os.environ.get("ARROW_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Several checkouts may share one test server: give each its own test database name.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("ARROW_TEST_DB_NAME")
        or f"test_arrow_{hashlib.blake2b(str(BASE_DIR).encode(), digest_size=4).hexdigest()}"
    }
    # Server-side binding with prepared statements: without them PostgreSQL parses and plans every
    # check-mac lookup again (measured: the hot path gains about 1.8x).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 1}
    )
else:
    # SQLite: wait for the write lock instead of failing at once when devices submit together.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Login throttling: refuses a login while its (username, client address) is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("ARROW_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ARROW_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "arrow.middleware.request_client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Submissions larger than this are refused before parsing (a device sends a few KiB).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("ARROW_MAX_BODY_BYTES", str(256 * 1024)))

# --- Production over HTTPS (docs/deployment.md) ---------------------------------------------------
# ARROW_HTTPS=1: session and CSRF cookies only over HTTPS, HSTS, and HTTP redirected to HTTPS
# except for devices (iPXE and the inventory image may speak plain HTTP on the boot network).
# TLS ends at nginx; gunicorn's --forwarded-allow-ips makes its X-Forwarded-Proto believed.
ARROW_HTTPS = _flag("ARROW_HTTPS")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = ARROW_HTTPS
SECURE_SSL_REDIRECT = ARROW_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^pxe/", r"^api/inventory/"]
SECURE_HSTS_SECONDS = int(os.environ.get("ARROW_HSTS_SECONDS", "31536000")) if ARROW_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("ARROW_HSTS_INCLUDE_SUBDOMAINS", ARROW_HTTPS)
SECURE_HSTS_PRELOAD = _flag("ARROW_HSTS_PRELOAD", ARROW_HTTPS)
# Comma-separated addresses or networks of the proxies in front (nginx: 127.0.0.1). From those
# only, the client's address is read from X-Forwarded-For (arrow/middleware.py).
ARROW_TRUSTED_PROXIES = [
    n.strip() for n in os.environ.get("ARROW_TRUSTED_PROXIES", "").split(",") if n.strip()
]

# --- Domain settings -------------------------------------------------------------------------
# When on, check-mac answers needs_inventory for a MAC nobody registered (discovery mode).
ARROW_DISCOVER_UNKNOWN = _flag("ARROW_DISCOVER_UNKNOWN")
# MACs and OUIs shared by many machines; they never identify a device. Extra entries, comma
# separated, are added to the built-in list in inventory/services/macs.py.
ARROW_SHARED_MACS = [m for m in os.environ.get("ARROW_SHARED_MACS", "").split(",") if m.strip()]
ARROW_SHARED_OUIS = [m for m in os.environ.get("ARROW_SHARED_OUIS", "").split(",") if m.strip()]
# A serial reported by this many machines (MAC sets sharing no MAC) is a placeholder from then
# on (inventory/services/serials.py, docs/decisions.md). Two is the least that means anything.
try:
    ARROW_SUSPECT_SERIAL_MAC_SETS = int(os.environ.get("ARROW_SUSPECT_SERIAL_MAC_SETS", "3"))
except ValueError:
    ARROW_SUSPECT_SERIAL_MAC_SETS = 0
if ARROW_SUSPECT_SERIAL_MAC_SETS < 2:
    raise ImproperlyConfigured(
        "ARROW_SUSPECT_SERIAL_MAC_SETS must be a whole number of at least 2 (machines that "
        f"report one serial), not {os.environ.get('ARROW_SUSPECT_SERIAL_MAC_SETS')!r}"
    )

# --- Boot path (iPXE) ---------------------------------------------------------------------------
# The URL devices use to reach this backend. Empty: built from the address each device used to
# reach the boot endpoint (works behind NAT and forwarded ports as long as Host is preserved).
ARROW_PUBLIC_URL = os.environ.get("ARROW_PUBLIC_URL", "").rstrip("/")
# Global imaging target (iPXE chain URL template); {mac}, {mac_hyphen} and {device_id} are
# replaced. A device's spec, then its organization, may set their own.
ARROW_IMAGING_URL = os.environ.get("ARROW_IMAGING_URL", "")
ARROW_BOOT_TOKEN_TTL = int(os.environ.get("ARROW_BOOT_TOKEN_TTL", "1800"))
# The live onboarding view: a device with no new step for this long is marked stuck (imaging
# may take longer); devices whose last step is older than the window are no longer shown.
ARROW_STUCK_AFTER_S = int(os.environ.get("ARROW_STUCK_AFTER_S", "300"))
ARROW_IMAGING_STUCK_AFTER_S = int(os.environ.get("ARROW_IMAGING_STUCK_AFTER_S", "3600"))
ARROW_LIVE_WINDOW_S = int(os.environ.get("ARROW_LIVE_WINDOW_S", "21600"))
# Bearer token of GET /metrics (Prometheus); empty: /metrics answers 503 to everyone.
ARROW_METRICS_TOKEN = os.environ.get("ARROW_METRICS_TOKEN", "")
ARROW_LIVE_POLL_MS = int(os.environ.get("ARROW_LIVE_POLL_MS", "3000"))  # the page's refresh
# Comma-separated CIDRs allowed to use the boot endpoint (empty: any).
ARROW_PXE_ALLOWED_NETWORKS = [
    n.strip() for n in os.environ.get("ARROW_PXE_ALLOWED_NETWORKS", "").split(",") if n.strip()
]
ARROW_IMAGE_DIR = Path(os.environ.get("ARROW_IMAGE_DIR", BASE_DIR / "build" / "image"))
# Debian's iPXE builds, served at /pxe/ipxe/ to UEFI HTTP Boot clients in development.
ARROW_IPXE_DIR = Path(os.environ.get("ARROW_IPXE_DIR", "/usr/lib/ipxe"))
# The PXE filter: the dhcp-hostsdir of the product's dnsmasq (render_dnsmasq --pxe-filter), where
# the backend writes which MACs it wants to boot. Empty: no filter files are written.
ARROW_DHCP_HOSTS_DIR = os.environ.get("ARROW_DHCP_HOSTS_DIR", "")
# The Secure Boot chain: the grub directory of the TFTP root (render_dnsmasq --secure-boot
# --prepare-tftp), where the backend writes one GRUB config per MAC to inventory. Empty: none.
ARROW_GRUB_DIR = os.environ.get("ARROW_GRUB_DIR", "")
# The PCI ID list naming the vendors and devices of inventories in the portal (Debian: pci.ids).
ARROW_PCI_IDS = os.environ.get("ARROW_PCI_IDS", "/usr/share/misc/pci.ids")
# Webhook deliveries (docs/webhooks.md): the worker's HTTP timeout, the back-off between tries
# (exponential from BASE, at most MAX, with jitter), and when a delivery is given up (after so
# many tries or so long since it was queued, whichever comes first).
ARROW_WEBHOOK_TIMEOUT_S = float(os.environ.get("ARROW_WEBHOOK_TIMEOUT_S", "10"))
ARROW_WEBHOOK_BACKOFF_BASE_S = float(os.environ.get("ARROW_WEBHOOK_BACKOFF_BASE_S", "10"))
ARROW_WEBHOOK_BACKOFF_MAX_S = float(os.environ.get("ARROW_WEBHOOK_BACKOFF_MAX_S", "3600"))
ARROW_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("ARROW_WEBHOOK_MAX_ATTEMPTS", "15"))
ARROW_WEBHOOK_MAX_AGE_S = float(os.environ.get("ARROW_WEBHOOK_MAX_AGE_S", str(3 * 24 * 3600)))
# How often the worker looks for outbox rows and for devices newly stuck.
ARROW_WEBHOOK_POLL_S = float(os.environ.get("ARROW_WEBHOOK_POLL_S", "1"))
ARROW_WEBHOOK_STUCK_SCAN_S = float(os.environ.get("ARROW_WEBHOOK_STUCK_SCAN_S", "30"))
# Extra kernel arguments for the inventory image (e.g. "console=ttyS0" for a serial console).
ARROW_KERNEL_ARGS = os.environ.get("ARROW_KERNEL_ARGS", "console=tty0 console=ttyS0,115200")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ARROW_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

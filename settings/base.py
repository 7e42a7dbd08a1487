"""Default settings: every setting leadcrawler reads has its default here, grouped by component.

A fresh checkout works with these alone: leads go to an embedded SQLite file. Secrets
(database URLs with passwords, API keys, proxy credentials) never belong in this file:
they come from the environment (see ``DATABASE_URL`` below).
"""

from __future__ import annotations

import os
from pathlib import Path

SETTINGS_DIR = Path(__file__).resolve().parent

BOT_NAME = "leadcrawler"
SPIDER_MODULES = ["leadcrawler.spiders"]
NEWSPIDER_MODULE = "leadcrawler.spiders"

# --- Identity and etiquette -------------------------------------------------------------
LEADCRAWLER_CONTACT_URL = "https://github.com/leadcrawler/leadcrawler#contact"
USER_AGENT = f"leadcrawler/0.1 (+{LEADCRAWLER_CONTACT_URL})"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0  # seconds
AUTOTHROTTLE_MAX_DELAY = 30.0  # seconds
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0  # parallel requests per remote site
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5  # seconds, per domain (AutoThrottle adapts it)
# Per-source politeness: concurrency and delay (seconds) per host, on top of the above.
DOWNLOAD_SLOTS = {
    "pay.kiwify.com.br": {"concurrency": 2, "delay": 1.0},
    "kiwify.app": {"concurrency": 2, "delay": 1.0},
    "pay.hub.la": {"concurrency": 2, "delay": 1.0},
    "hub.la": {"concurrency": 2, "delay": 1.0},
    "pay.hotmart.com": {"concurrency": 2, "delay": 1.0},
    "go.hotmart.com": {"concurrency": 2, "delay": 1.0},
    "hotmart.com": {"concurrency": 1, "delay": 2.0},
    "html.duckduckgo.com": {"concurrency": 1, "delay": 5.0},  # a free HTML endpoint: gently
    "web.archive.org": {"concurrency": 1, "delay": 2.0},  # the CDX API rate-limits bursts
}

# --- Limits for this workload -------------------------------------------------------------
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # bytes; platform pages are well under 2 MiB
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024  # bytes
DOWNLOAD_TIMEOUT = 30  # seconds
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2

# Only http(s): no file://, data:, ftp:// or s3:// downloads from links found on pages.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

# Pipelines await asyncio work (database threads, DNS); scrapy-playwright needs it too.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# --- Attack surface off -----------------------------------------------------------------
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19 runs Python sent to a localhost port otherwise

# --- Logging: items hold personal data; never log them in full ---------------------------
LOG_LEVEL = "INFO"
LOG_FORMATTER = "leadcrawler.logformatter.MaskingLogFormatter"

# --- Crawl resilience (leadcrawler/middlewares.py) --------------------------------------
# Order matters: the SSRF guard runs first (no robots.txt fetch for a refused host), robots.txt
# next; Retry-After and the circuit breaker sit above Scrapy's RetryMiddleware (550) so they see
# every attempt's response or error before it becomes a retry.
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's robots.txt middleware allows everything when robots.txt fails; ours follows RFC 9309.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "leadcrawler.middlewares.SSRFGuardMiddleware": 60,
    "leadcrawler.middlewares.RobotsTxtMiddleware": 100,
    "leadcrawler.middlewares.RetryAfterMiddleware": 560,
    "leadcrawler.middlewares.CircuitBreakerMiddleware": 570,
}

# SSRF guard: only public http(s) hosts, on every redirect hop. Hostnames are resolved unless a
# proxy does it (then only literal IPs and special names are checked).
SSRF_ENABLED = True
SSRF_ALLOWLIST: list[str] = []  # host names or CIDRs let through anyway, e.g. ["127.0.0.1/32"]

# robots.txt per RFC 9309 (needs ROBOTSTXT_OBEY too): 4xx allows all, 5xx/network error disallows.
ROBOTS_ENABLED = True
ROBOTS_CRAWL_DELAY_MAX = 30.0  # seconds; a longer Crawl-delay is honoured as this
ROBOTS_UNREACHABLE_TTL = 600.0  # seconds a site stays disallowed before robots.txt is re-fetched
ROBOTS_MAX_BYTES = 500 * 1024  # bytes of robots.txt parsed (RFC 9309: at least 500 KiB)

# Retry-After on 429/503, backoff on other retried failures: pauses that domain's slot only.
# RETRY_TIMES (above) bounds the attempts.
RETRY_AFTER_ENABLED = True
RETRY_AFTER_DEFAULT = 30.0  # seconds, when a 429/503 has no usable Retry-After (absent, -1, abc)
RETRY_AFTER_MAX = 300.0  # seconds; a longer Retry-After (or a far HTTP date) waits this long
RETRY_AFTER_BACKOFF_BASE = 1.0  # seconds before the 1st retry; doubles per retry, jitter 50-100 %
RETRY_AFTER_BACKOFF_MAX = 60.0  # seconds, the cap on one backoff step

# Per-domain circuit breaker: failures are 5xx responses and network errors.
CIRCUIT_BREAKER_ENABLED = True
CIRCUIT_BREAKER_FAILURES = 5  # consecutive failures that open a domain's circuit
CIRCUIT_BREAKER_COOLDOWN = 120.0  # seconds an open domain rests before one probe request

# Crawl-wide services: one historical base per crawl, and the enricher chain the item
# pipelines call (leadcrawler/extensions.py).
EXTENSIONS = {
    "leadcrawler.extensions.StorageExtension": 0,
    "leadcrawler.extensions.EnricherExtension": 0,
}

# --- Pipeline chain: normalize -> validate -> enrich -> dedupe -> qualify -> persist ------
# Each stage has its own <PREFIX>_ENABLED flag; switch a stage off there, not here.
ITEM_PIPELINES = {
    "leadcrawler.pipelines.normalize.NormalizePipeline": 100,
    "leadcrawler.pipelines.validate.ValidatePipeline": 200,
    "leadcrawler.pipelines.enrich.EnrichPipeline": 300,
    "leadcrawler.pipelines.dedupe.DedupePipeline": 400,
    "leadcrawler.pipelines.qualify.QualifyPipeline": 500,
    "leadcrawler.pipelines.persist.PersistPipeline": 600,
    "leadcrawler.pipelines.frontier.FrontierPipeline": 700,  # discovery spiders' URLs
}

NORMALIZE_ENABLED = True
NORMALIZE_DEFAULT_REGION = "BR"  # region for phone numbers written without +country code
# Repair Brazilian numbers before validating: the 9th digit of legacy 8-digit mobiles, carrier
# prefixes (0 xx 11...), a DDD before 3003/4004. A rewritten number says so in details["repaired"].
NORMALIZE_PHONE_REPAIR = True

# --- Intake: raw lists (`leadcrawler enrich FILE`, the `intake` spider, the API worker) --
INTAKE_PROGRESS = False  # a progress bar on the terminal (the CLI turns it on for a TTY)
INTAKE_READ_BATCH = 1000  # records read per trip to the reader thread
INTAKE_MAX_IN_FLIGHT = 2000  # leads in the chain at once (memory stays flat with file size)

# --- The enricher's HTTP API (`leadcrawler serve`); tokens: LEADCRAWLER_API_TOKEN env ----
API_MAX_BODY_BYTES = 5 * 1024 * 1024  # bytes per POST body
API_MAX_ROWS = 10_000  # raw leads per POST
API_PAGE_MAX = 500  # leads per GET /v1/leads page
API_WORKER_POLL = 1.0  # seconds between looks at the job queue when it is empty
API_SPOOL_DIR = "data/intake"  # where the worker writes a batch while it imports it

VALIDATE_ENABLED = True
# A name alone keeps a crawled lead; raw-list imports (`leadcrawler enrich FILE`) set this so
# that a row needs a valid e-mail, phone, profile, CNPJ or own site.
VALIDATE_REQUIRE_CONTACT = False

ENRICH_ENABLED = True
# Website contact discovery: the spiders visit each producer's site (home + contact pages).
ENRICH_SITE_ENABLED = True
ENRICH_SITE_MAX_PAGES = 5  # pages read per site, home included
# MX checks of e-mail domains (dnspython, asynchronous, cached per domain by TTL).
ENRICH_DNS_ENABLED = True
ENRICH_DNS_NAMESERVERS: list[str] = []  # "host:port" IPs; empty: the machine's resolv.conf
ENRICH_DNS_TIMEOUT = 5.0  # seconds per lookup, every server and retry included
ENRICH_DNS_MAX_TTL = 86_400  # seconds; longer record TTLs are capped in the run's cache
ENRICH_DNS_NEGATIVE_TTL = 3_600  # seconds; cap for NXDOMAIN / no-MX answers
ENRICH_DNS_FAILURE_TTL = 60  # seconds a dns-timeout/dns-error is remembered before asking again

DEDUPE_ENABLED = True
# In-run memory of identity keys is bounded: beyond this many keys the base is the memory.
DEDUPE_MAX_KEYS_IN_MEMORY = 200_000
# Name similarity (rapidfuzz, 0-100) that lets a shared website domain link two sightings.
DEDUPE_NAME_SIMILARITY = 85

QUALIFY_ENABLED = True
QUALIFY_RULES_FILE = str(SETTINGS_DIR / "qualification.toml")

PERSIST_ENABLED = True
# The historical base. Default: an embedded SQLite file in ./data. Set the DATABASE_URL
# environment variable (or -s DATABASE_URL=...) for PostgreSQL, e.g.
#   postgresql+psycopg2://user@127.0.0.1:5432/leads
DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///data/leadcrawler.sqlite3")
# Run Alembic migrations to head when a crawl first opens the base (the storage extension).
DATABASE_AUTO_MIGRATE = True
PERSIST_BATCH_SIZE = 100  # leads per transaction
PERSIST_RETRY_TIMES = 3  # retries of a failed batch before leads are tried one by one
PERSIST_RETRY_BACKOFF = 2.0  # seconds before the first retry; doubles each time
PERSIST_SPILL_DIR = "data/unsaved"  # JSON Lines of leads the base refused, for replay

# --- Rendering: the last rung of the extraction ladder (leadcrawler/browser.py) ----------
# Platform spiders re-request a page through Chromium (scrapy-playwright) only when
# structured data, embedded state and text patterns found nothing.
RENDER_ENABLED = True
RENDER_BROWSER_PATH = None  # None: $LEADCRAWLER_CHROMIUM, else chromium on the PATH
RENDER_BROWSER_ARGS = [
    # Chromium's own background traffic (updates, sync) has nowhere to go on a closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
RENDER_IGNORE_HTTPS_ERRORS = False  # Chromium checks certificates (Scrapy itself does not)
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_MAX_CONTEXTS = 2  # bounded: browser memory grows per context and page
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000  # milliseconds
PLAYWRIGHT_ABORT_REQUEST = "leadcrawler.browser.abort_heavy_requests"

# --- Discovery: serp and wayback spiders ------------------------------------------------
SERP_DEFAULT_ENGINE = "searxng"  # searxng | brave | duckduckgo
# Your SearXNG instance (JSON must be enabled in its search.formats), e.g. http://127.0.0.1:8888
SERP_SEARXNG_URL = os.environ.get("SERP_SEARXNG_URL", "")
SERP_BRAVE_API_KEY_ENV = "BRAVE_SEARCH_API_KEY"  # the environment variable holding the key
SERP_MAX_PAGES = 10  # result pages per dork, whatever -a pages says
WAYBACK_CDX_URL = "http://web.archive.org/cdx/search/cdx"
WAYBACK_PAGE_SIZE = 1000  # CDX rows per request

# --- Frontier: product pages found by discovery, drained by the platform spiders ----------
FRONTIER_ENABLED = True
FRONTIER_BATCH_SIZE = 200  # discovered URLs per transaction
FRONTIER_MAX_ATTEMPTS = 3  # failed tries before a URL is given up ("failed")
FRONTIER_CLAIM_TTL = 3600  # seconds a claimed URL is not handed to another run
FRONTIER_DEFAULT_LIMIT = 500  # URLs a platform spider takes per run without -a limit

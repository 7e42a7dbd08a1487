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
# `scrapy crawl` that ends a wrong argument, setting or DATABASE_URL with one line, exit != 0.
COMMANDS_MODULE = "leadcrawler.commands"
NEWSPIDER_MODULE = "leadcrawler.spiders"
# Scrapy's loader plus one generic ladder spider per platform that is only data.
SPIDER_LOADER_CLASS = "leadcrawler.spiderloader.PlatformSpiderLoader"
PLATFORMS_EXTRA_FILES: list[str] = []  # more platforms .toml files beside the bundled one

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
# Items and requests of one response processed at once. A page yields a lead or a few
# requests; Scrapy's default of 100 starts 100 asyncio worker tasks per response whatever it
# yields (scrapy/utils/asyncio.py `_parallel_asyncio`), which was ~10 % of the reactor
# thread in the crawl bench (bench/README.md).
CONCURRENT_ITEMS = 16
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
# The slot a platform spider gives its platform's hosts that DOWNLOAD_SLOTS does not name
# (platforms that are only data in platforms.toml); None: no slot of their own.
PLATFORM_DOWNLOAD_SLOT: dict[str, float] | None = {"concurrency": 2, "delay": 1.0}

# --- Limits for this workload -------------------------------------------------------------
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # bytes; platform pages are well under 2 MiB
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024  # bytes
DOWNLOAD_TIMEOUT = 30  # seconds
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2

# Only http(s): no file://, data:, ftp:// or s3:// downloads from links found on pages.
DOWNLOAD_HANDLERS = {
    "file": None,
    "data": None,
    "ftp": None,
    "s3": None,
    # Scrapy's HTTP/1.1 handler with a bounded pool of kept-alive connections
    # (leadcrawler/connections.py); the browser rung's handler has the same pool.
    "http": "leadcrawler.connections.BoundedPoolHTTP11Handler",
    "https": "leadcrawler.connections.BoundedPoolHTTP11Handler",
}
# Idle kept-alive connections over all hosts, least recently used closed first, and how long
# one may stay idle: memory stays flat however many sites a crawl meets (Twisted's pool
# keeps every host's connection for 240 s, closed by the server or not).
DOWNLOAD_POOL_MAX_IDLE = 256
DOWNLOAD_POOL_IDLE_TIMEOUT = 60.0  # seconds

# Pipelines await asyncio work (database threads, DNS); scrapy-playwright needs it too.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# --- Attack surface off -----------------------------------------------------------------
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19 runs Python sent to a localhost port otherwise

# --- Logging: items hold personal data; never log them in full ---------------------------
LOG_LEVEL = "INFO"
LOG_FORMATTER = "leadcrawler.logformatter.MaskingLogFormatter"
# Every log record of the process (Scrapy's, Twisted's, ours) has e-mails/phones masked.
# (LogMasking, which masks e-mails and phones in every log line of a crawl, is in EXTENSIONS below.)

# --- Crawl resilience (leadcrawler/middlewares.py) --------------------------------------
# Order matters: the SSRF guard runs first (no robots.txt fetch for a refused host), robots.txt
# next; Retry-After and the circuit breaker sit above Scrapy's RetryMiddleware (550) so they see
# every attempt's response or error before it becomes a retry.
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's robots.txt middleware allows everything when robots.txt fails; ours follows RFC 9309.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    # A redirect target is throttled and paused in its own host's slot (see the class).
    "leadcrawler.middlewares.RedirectSlotMiddleware": 50,
    "leadcrawler.middlewares.SSRFGuardMiddleware": 60,
    "leadcrawler.middlewares.RobotsTxtMiddleware": 100,
    "leadcrawler.middlewares.RetryAfterMiddleware": 560,
    "leadcrawler.middlewares.CircuitBreakerMiddleware": 570,
}

REDIRECT_SLOT_ENABLED = True  # a redirected request uses its new host's download slot

# SSRF guard: only public http(s) hosts, on every redirect hop. Hostnames are resolved unless a
# proxy does it (then only literal IPs and special names are checked).
SSRF_ENABLED = True
SSRF_ALLOWLIST: list[str] = []  # host names or CIDRs let through anyway, e.g. ["127.0.0.1/32"]

# robots.txt per RFC 9309 (needs ROBOTSTXT_OBEY too): 4xx allows all, 5xx/network error disallows.
ROBOTS_ENABLED = True
ROBOTS_CRAWL_DELAY_MAX = 30.0  # seconds; a longer Crawl-delay is honoured as this
ROBOTS_UNREACHABLE_TTL = 600.0  # seconds a site stays disallowed before robots.txt is re-fetched
ROBOTS_MAX_BYTES = 500 * 1024  # bytes of robots.txt parsed (RFC 9309: at least 500 KiB)
ROBOTS_CACHE_SITES = 4096  # parsed robots.txt kept (least recently used sites go first)

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
    "leadcrawler.logformatter.LogMasking": 0,  # no e-mail or phone in any log line of a crawl
    "leadcrawler.extensions.StorageExtension": 0,
    "leadcrawler.extensions.EnricherExtension": 0,
    "leadcrawler.jobdir.CrashRecovery": 0,  # JOBDIR crawls killed mid-run resume safely
    "leadcrawler.replay.ReplayExtension": 500,  # parked leads go back into the base
    # Per-run metrics at spider close (leadcrawler/monitors, MONITOR_ENABLED), then the alerts
    # as a Spidermon suite (SPIDERMON_ENABLED, SPIDERMON_SPIDER_CLOSE_MONITORS below).
    "leadcrawler.monitors.extension.RunMonitor": 500,
    "leadcrawler.monitors.spidermon.SpidermonAtClose": 510,
}

# --- Pipeline chain: normalize -> validate -> enrich -> dedupe -> qualify -> persist ------
# Each stage has its own <PREFIX>_ENABLED flag; switch a stage off there, not here.
ITEM_PIPELINES = {
    "leadcrawler.pipelines.privacy.PrivacyPipeline": 50,  # always on: see PRIVACY_* below
    "leadcrawler.pipelines.normalize.NormalizePipeline": 100,
    "leadcrawler.pipelines.validate.ValidatePipeline": 200,
    "leadcrawler.pipelines.enrich.EnrichPipeline": 300,
    "leadcrawler.pipelines.dedupe.DedupePipeline": 400,
    "leadcrawler.pipelines.qualify.QualifyPipeline": 500,
    "leadcrawler.pipelines.persist.PersistPipeline": 600,
    "leadcrawler.pipelines.frontier.FrontierPipeline": 700,  # discovery spiders' URLs
}

# --- Privacy (LGPD): leadcrawler/privacy/, README "LGPD" ---------------------------------
# Every stored lead carries these three; storage refuses a lead without them.
PRIVACY_LEGAL_BASIS = "legitimate_interest"  # LGPD art. 7 IX: the only basis prospecting has
PRIVACY_PURPOSE = (
    "B2B outbound prospecting: offering our services to producers who sell digital products, "
    "through the business contacts they publish"
)
# Where the written legitimate-interest assessment (LIA) lives: a document id or URL. The
# default marks an unassessed development base; production requires the real one.
PRIVACY_LIA_REFERENCE = os.environ.get(
    "LEADCRAWLER_LIA_REFERENCE", "UNASSESSED-DEVELOPMENT (set LEADCRAWLER_LIA_REFERENCE)"
)
PRIVACY_RETENTION_DAYS = 365  # `leadcrawler purge` deletes leads not seen for this long
# The suppression list's HMAC pepper comes from the LEADCRAWLER_PRIVACY_PEPPER environment
# variable only. Without it, development uses a public pepper (logged as a WARNING);
# production refuses to start.
PRIVACY_REQUIRE_PEPPER = False

NORMALIZE_ENABLED = True
NORMALIZE_DEFAULT_REGION = "BR"  # region for phone numbers written without +country code
# Repair Brazilian numbers before validating: the 9th digit of legacy 8-digit mobiles, carrier
# prefixes (0 xx 11...), a DDD before 3003/4004. A rewritten number says so in details["repaired"].
NORMALIZE_PHONE_REPAIR = True

# --- Intake: raw lists (`leadcrawler enrich FILE`, the `intake` spider, the API worker) --
INTAKE_PROGRESS = False  # a progress bar on the terminal (the CLI turns it on for a TTY)
INTAKE_READ_BATCH = 1000  # records read per trip to the reader thread
INTAKE_MAX_IN_FLIGHT = 2000  # leads in the chain at once (memory stays flat with file size)
INTAKE_WORKERS = 0  # processes enriching rows that have no site to visit; 0: one per core

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
# A page linking more checkouts, or carrying more contact values, than this is a directory
# (recommendations, a list of producers): nothing on it is taken as the site owner's.
ENRICH_SITE_MAX_CHECKOUT_LINKS = 5
ENRICH_SITE_MAX_PAGE_CONTACTS = 25
ENRICH_SITE_MAX_CONTACTS = 50  # contacts one site visit may add to a lead
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
# Parked leads go back into the base by themselves (leadcrawler/replay.py): at the start of
# every crawl, while it runs (once the base answers again) and when it closes.
# (ReplayExtension and CrashRecovery are in EXTENSIONS above.)
CRASH_RECOVERY_ENABLED = True  # with JOBDIR: a crashed run's request queue is set aside
REPLAY_ENABLED = True
REPLAY_INTERVAL = 30.0  # seconds between looks for parked leads during a crawl
REPLAY_BATCH_SIZE = 100  # parked leads per transaction

# --- Monitoring: per-run metrics and alerts (leadcrawler/monitors) ------------------------
MONITOR_ENABLED = True  # store each run's metrics in the base and check them at the end
SPIDER_MIDDLEWARES = {"leadcrawler.monitors.timing.ExtractTimingMiddleware": 950}
# The alerts run on Spidermon: one monitor per condition in the suite below, run at spider
# close (in a thread, after the run monitor stored the run and computed its baselines).
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["leadcrawler.monitors.suite.RunAlerts"]
ALERTS_ENABLED = True
ALERTS_BASELINE_RUNS = 10  # a metric's baseline: median of the source's last N runs
ALERTS_BASELINE_MIN_RUNS = 3  # fewer earlier runs: no baseline alerts yet
ALERTS_DROP_SHARE = 0.5  # extraction success or a field's coverage below 50 % of its baseline
ALERTS_MAX_ERROR_RATE = 20.0  # percent of download attempts failing (4xx/5xx/network)
ALERTS_MAX_BAN_RATE = 5.0  # percent of download attempts answered 403/429
# Slack-compatible incoming webhook; a secret: set it in the environment, never here.
ALERTS_WEBHOOK_URL = os.environ.get("ALERTS_WEBHOOK_URL", "")
ALERTS_WEBHOOK_TIMEOUT = 10.0  # seconds

# --- Feeds: `scrapy crawl X -O leads.csv|leads.jsonl` (leadcrawler/feeds.py) -------------
# The same flat columns as `leadcrawler export`, one row per sighting.
FEED_EXPORTERS = {
    "csv": "leadcrawler.feeds.LeadCsvItemExporter",
    "jsonl": "leadcrawler.feeds.LeadJsonLinesItemExporter",
}
FEED_CSV_DIALECT = "excel-br"  # ';' + UTF-8 BOM + CRLF for Excel pt-BR; "rfc4180" for ','
FEED_PHONE_FORMAT = "e164"  # e164 (quoted against formulas in CSV), national or digits

# --- Rendering: the last rung of the extraction ladder (leadcrawler/browser.py) ----------
# Platform spiders re-request a page through Chromium (scrapy-playwright) only when
# structured data, embedded state and text patterns found nothing.
RENDER_ENABLED = True
RENDER_BROWSER_PATH = None  # None: $LEADCRAWLER_CHROMIUM, else chromium on the PATH
# Chromium must send nothing of its own (measured with Debian's Chromium 156 through the fixture
# web: without these it calls accounts.google.com/ListAccounts, update.googleapis.com and
# content-autofill.googleapis.com through the user's proxy on every start).
RENDER_BROWSER_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--metrics-recording-only",  # metrics are recorded locally, never uploaded
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--no-first-run",
    "--disable-gpu",
    # Some services ignore the switches above: their endpoints point at a closed loopback port
    # (loopback never goes through the proxy), so a call fails on the machine itself.
    "--gaia-url=http://127.0.0.1:9",
    "--lso-url=http://127.0.0.1:9",
    "--google-apis-url=http://127.0.0.1:9",
    "--component-updater=url-source=http://127.0.0.1:9",
    "--apps-gallery-update-url=http://127.0.0.1:9",
]
# Chromium honours only the last --disable-features switch, so this list repeats Playwright's own
# (leadcrawler/browser.py joins it into one switch) and adds the services that phone home.
RENDER_BROWSER_DISABLED_FEATURES = [
    "AutofillServerCommunication",  # content-autofill.googleapis.com
    "OptimizationHints",
    "OptimizationGuideModelDownloading",
    "CertificateTransparencyComponentUpdater",
    "NetworkTimeServiceQuerying",
    "Translate",
    "MediaRouter",
    "DialMediaRouteProvider",
    "InterestFeedContentSuggestions",
    "PreconnectToSearch",
    "AimEnabled",
    "LensOverlay",
    # Playwright's own list (kept, or its behaviour changes):
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
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

# --- Distributed crawling: several processes share one Redis queue (leadcrawler/distributed.py)
# Off by default: one process per crawl needs no Redis. On, every `scrapy crawl <spider>` with
# the same REDIS_URL and DISTRIBUTED_KEY_PREFIX shares one request queue and one dupefilter
# (scrapy-redis); all of them write to the one DATABASE_URL (use PostgreSQL).
ADDONS = {"leadcrawler.distributed.DistributedCrawling": 0}
DISTRIBUTED_ENABLED = False
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")  # scrapy-redis' own setting
DISTRIBUTED_KEY_PREFIX = "leadcrawler"  # Redis keys: <prefix>:<spider>:requests|dupefilter|workers
DISTRIBUTED_IDLE_CLOSE = 30.0  # seconds the shared queue must stay empty before a process closes
DISTRIBUTED_WORKER_TTL = 60.0  # seconds without a heartbeat before a worker counts as gone

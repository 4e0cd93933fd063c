"""Settings from the environment, derived from the source registry; secrets kept out of logs."""

from __future__ import annotations

import ast
import logging
import os
import re
from pathlib import Path

import dagster as dg
import pytest
import yaml

from jobs_assets.lib.redact import install_log_filter, redact
from jobs_assets.lib.sources import SOURCES
from jobs_assets.resources import resources_from_env
from jobs_assets.settings import Settings, environment, mask_url, variable_names

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "jobs_assets"
#: the minimum intervals the sources' terms set (hours)
TERMS_INTERVALS = {"remotive": 6, "jobicy": 1, "himalayas": 0, "remoteok": 1, "arbeitnow": 1}


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in [*variable_names(), "PGHOST"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    return monkeypatch


def test_defaults_come_from_the_registry(bare_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings.from_env()
    assert settings.pghost is None  # embedded PostgreSQL
    assert settings.data_dir == (tmp_path / "jobs_data").resolve()
    assert settings.urls == {name: s.default_url for name, s in SOURCES.items()}
    intervals = {n: s.min_interval_hours for n, s in settings.sources.items()}
    assert intervals == TERMS_INTERVALS
    assert settings.sources["himalayas"].max_pages == 50
    assert settings.sources["remotive"].max_pages == 1  # one request, no paging
    assert {s.workers for s in settings.sources.values()} == {8}
    assert {s.max_rps for s in settings.sources.values()} == {4}
    assert settings.backup_keep == 10 and settings.alert_webhook_url is None
    assert (settings.step_retries, settings.step_retry_delay_seconds) == (3, 10)
    assert settings.ecb_rates.url == "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"


def test_the_saved_searches_settings_of_the_api(bare_env: pytest.MonkeyPatch) -> None:
    for name in ("JOBS_SEARCH_RATE_LIMIT", "JOBS_SEARCH_CLIENT_KEY", "JOBS_API_PG_ROLE"):
        bare_env.delenv(name, raising=False)
    for name in ("JOBS_ALERT_ALLOW_HTTP", "JOBS_ALERT_ALLOW_PRIVATE"):
        bare_env.delenv(name, raising=False)
    default = Settings.from_env()
    assert default.search_rate_limit == (20, 3600) and default.search_client_key is None
    assert (default.alert_allow_http, default.alert_allow_private) == (False, False)
    bare_env.setenv("JOBS_SEARCH_RATE_LIMIT", "5/minute")
    bare_env.setenv("JOBS_ALERT_ALLOW_PRIVATE", "ON")
    bare_env.setenv("JOBS_API_PG_ROLE", "jobs_api")
    settings = Settings.from_env()
    assert settings.search_rate_limit == (5, 60) and settings.alert_allow_private
    assert settings.api_pg_role == "jobs_api" and not settings.alert_allow_http
    bare_env.setenv("JOBS_SEARCH_RATE_LIMIT", "7")  # a count alone: a hour
    assert Settings.from_env().search_rate_limit == (7, 3600)
    bare_env.setenv("JOBS_SEARCH_RATE_LIMIT", "lots/week")
    with pytest.raises(ValueError, match="JOBS_SEARCH_RATE_LIMIT='lots/week'"):
        Settings.from_env()


def test_the_ecb_rates_url_is_a_setting_with_the_http_policy(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("JOBS_ECB_RATES_URL", "http://127.0.0.1:1/ecb_rates")
    bare_env.setenv("JOBS_HTTP_TOTAL_TIMEOUT_SECONDS", "7")
    ecb = Settings.from_env().ecb_rates
    assert (ecb.url, ecb.total_timeout_seconds, ecb.max_pages) == (
        "http://127.0.0.1:1/ecb_rates",
        7,
        1,
    )
    resource = resources_from_env()["ecb_rates_api"]
    assert resource.url == dg.EnvVar("JOBS_ECB_RATES_URL")
    assert "JOBS_ECB_RATES_URL" in variable_names()


def test_every_source_has_its_url_and_interval_variables(bare_env: pytest.MonkeyPatch) -> None:
    for name in SOURCES:
        bare_env.setenv(f"JOBS_{name.upper()}_URL", f"http://127.0.0.1:1/{name}")
        bare_env.setenv(f"JOBS_{name.upper()}_MIN_INTERVAL_HOURS", "2.5")
    bare_env.setenv("JOBS_ARBEITNOW_MAX_PAGES", "7")
    settings = Settings.from_env()
    for name, source in settings.sources.items():
        assert (source.url, source.min_interval_hours) == (f"http://127.0.0.1:1/{name}", 2.5)
    assert settings.sources["arbeitnow"].max_pages == 7
    print("variables:", variable_names())


def test_dotenv_fills_in_but_never_leaks_into_os_environ(
    bare_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("JOBS_FETCH_WORKERS=3\nJOBS_MAX_RPS=0\nJOBS_REMOTEOK_URL=\n")
    bare_env.setenv("JOBS_REMOTIVE_URL", "http://127.0.0.1:1/remotive")
    bare_env.setenv("JOBS_FETCH_WORKERS", "5")  # the environment wins over .env
    settings = Settings.from_env()
    remotive = settings.sources["remotive"]
    assert remotive.workers == 5 and remotive.max_rps == 0
    assert remotive.url == "http://127.0.0.1:1/remotive" and remotive.min_interval_hours == 6
    assert settings.sources["remoteok"].url == SOURCES["remoteok"].default_url  # empty = default
    assert "JOBS_MAX_RPS" not in os.environ and environment()["JOBS_MAX_RPS"] == "0"


def test_a_bad_number_names_the_setting(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("JOBS_MAX_RPS", "fast")
    with pytest.raises(ValueError, match="JOBS_MAX_RPS='fast' is not a number"):
        Settings.from_env()


def test_the_expiry_share_defaults_to_0_3_and_stays_a_share(bare_env: pytest.MonkeyPatch) -> None:
    assert Settings.from_env().expire_max_share == 0.3
    for given, share in (("0.5", 0.5), ("7", 1.0), ("-1", 0.0)):
        bare_env.setenv("JOBS_EXPIRE_MAX_SHARE", given)
        assert Settings.from_env().expire_max_share == share
    bare_env.setenv("JOBS_EXPIRE_MAX_SHARE", "a third")
    with pytest.raises(ValueError, match="JOBS_EXPIRE_MAX_SHARE='a third' is not a number"):
        Settings.from_env()


def test_resources_name_the_variables_the_environment_sets(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("JOBS_JOBICY_URL", "http://127.0.0.1:1/jobicy")
    resources = resources_from_env()
    assert set(resources) == {
        "postgres",
        "raw_store",
        "lifecycle",
        "salary_training",
        "ecb_rates_api",
        *(f"{n}_api" for n in SOURCES),
    }
    jobicy = resources["jobicy_api"]
    assert jobicy.url == dg.EnvVar("JOBS_JOBICY_URL")  # shown by name in the UI
    assert jobicy.process_config_and_initialize().settings().url == "http://127.0.0.1:1/jobicy"
    assert resources["remoteok_api"].url == SOURCES["remoteok"].default_url


def test_whole_numbers_and_choices_the_environment_sets_reach_resources_as_env_vars(
    bare_env: pytest.MonkeyPatch,
) -> None:
    """The UI names the variable behind every setting the environment gives, numbers
    too; a value settings corrected, or a fraction (no float EnvVar), stays a value."""
    for name, value in {
        "JOBS_EXPIRE_UNSEEN_DAYS": "7",
        "JOBS_MODEL_MIN_ROWS": "9",
        "JOBS_MIGRATE": "check",
        "JOBS_FETCH_WORKERS": "2",
        "JOBS_JOBICY_MAX_PAGES": "4",
        "JOBS_EXPIRE_MAX_SHARE": "0.5",
        "JOBS_BACKUP_KEEP": "0",  # at least one backup is kept: corrected to 1
    }.items():
        bare_env.setenv(name, value)
    resources = resources_from_env()
    fields = {
        "expire_unseen_days": (resources["lifecycle"], "JOBS_EXPIRE_UNSEEN_DAYS", 7),
        "min_rows": (resources["salary_training"], "JOBS_MODEL_MIN_ROWS", 9),
        "migrate": (resources["postgres"], "JOBS_MIGRATE", "check"),
        "workers": (resources["jobicy_api"], "JOBS_FETCH_WORKERS", 2),
        "max_pages": (resources["jobicy_api"], "JOBS_JOBICY_MAX_PAGES", 4),
    }
    for field, (resource, variable, value) in fields.items():
        # dg.EnvVar, or what dg.EnvVar.int makes: both name their variable
        assert getattr(getattr(resource, field), "env_var_name", None) == variable, field
        assert getattr(resource.process_config_and_initialize(), field) == value
    assert resources["lifecycle"].expire_max_share == 0.5
    from jobs_assets.defs.backups.resources import backups_resource_from_env

    assert backups_resource_from_env().keep == 1


def test_step_retry_policy_comes_from_settings(bare_env: pytest.MonkeyPatch) -> None:
    from jobs_assets.automation import step_retry_policy
    from jobs_assets.settings import DefinitionsSettings

    bare_env.setenv("JOBS_STEP_RETRIES", "7")
    bare_env.setenv("JOBS_STEP_RETRY_DELAY_SECONDS", "2")
    policy = step_retry_policy(DefinitionsSettings.from_env())
    assert (policy.max_retries, policy.delay) == (7, 2)


def test_sources_declare_what_is_their_own() -> None:
    for name, source in SOURCES.items():
        assert source.name == name and source.display_name and source.terms
        assert source.home_url.startswith("https://")
        assert source.default_url.startswith("https://")
        assert source.expiry in ("absence", "expires_at_or_unseen")
    expiry = {name: source.expiry for name, source in SOURCES.items()}
    assert expiry == {
        "remotive": "absence",
        "jobicy": "absence",
        "himalayas": "expires_at_or_unseen",
        "remoteok": "absence",
        "arbeitnow": "absence",
    }


# --- deployment lists are checked against the registry ---------------------------------


def listed_jobs_variables(names: list[str]) -> list[str]:
    return [n for n in names if n.startswith("JOBS_")]


def test_compose_and_dagster_yaml_list_exactly_the_registry_settings() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    in_compose = listed_jobs_variables(list(compose["x-pipeline-env"]))
    launcher = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())["run_launcher"][
        "config"
    ]
    in_launcher = listed_jobs_variables(launcher["env_vars"])
    assert in_compose == variable_names()
    assert in_launcher == variable_names()


def test_env_example_and_readme_document_every_setting() -> None:
    env_example = (REPO / ".env.example").read_text()
    readme = (REPO / "README.md").read_text()
    missing_example = [n for n in variable_names() if n not in env_example]
    missing_readme = [n for n in variable_names() if n not in readme]
    assert missing_example == [] and missing_readme == []


def test_env_example_defaults_are_the_registry_defaults() -> None:
    example = dict(
        re.findall(r"^# (JOBS_[A-Z_]+)=(.*)$", (REPO / ".env.example").read_text(), re.M)
    )
    for source in SOURCES.values():
        prefix = f"JOBS_{source.name.upper()}"
        assert example[f"{prefix}_URL"] == source.default_url
        assert float(example[f"{prefix}_MIN_INTERVAL_HOURS"]) == source.min_interval_hours
        if source.max_pages is not None:
            assert int(example[f"{prefix}_MAX_PAGES"]) == source.max_pages


# --- nothing outside lib/sources names a source ------------------------------------------


def _code_mentions(path: Path, names: set[str]) -> list[str]:
    """Names and string constants of a module (docstrings and comments aside) that
    mention a source."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    pattern = re.compile("|".join(sorted(names)), re.IGNORECASE)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings and pattern.search(node.value):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value[:60]!r}")
        elif isinstance(node, ast.Name) and pattern.search(node.id):
            found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and pattern.search(node.attr):
            found.append(f"{path.relative_to(REPO)}:{node.lineno}: .{node.attr}")
    return found


#: modules that still name sources, each with what removing it takes (keep this short)
NAMES_SOURCES_FOR_NOW: frozenset[str] = frozenset(
    {
        # synthetic listings for tests and benchmarks, written in each source's own format
        "testing/synth.py",
    }
)


def test_no_module_outside_lib_sources_names_a_source() -> None:
    sources_dir = PACKAGE / "lib" / "sources"
    modules = [
        p
        for p in PACKAGE.rglob("*.py")
        if sources_dir not in p.parents and str(p.relative_to(PACKAGE)) not in NAMES_SOURCES_FOR_NOW
    ]
    assert len(modules) > 20
    found = [hit for path in modules for hit in _code_mentions(path, set(SOURCES))]
    assert found == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://jobs:s3cret@db:5432/jobs", "postgresql://jobs:***@db:5432/jobs"),
        ("https://hooks.example/services/T/B/X", "https://hooks.example/services/T/B/X"),
        ("https://user@host/path", "https://user@host/path"),
        # passwords written without percent-encoding: every character of them masked
        ("smtp://me:p@ssw0rd@mail.test:587", "smtp://me:***@mail.test:587"),
        ("postgresql://u:pa/ss@db/jobs", "postgresql://u:***@db/jobs"),
        ("postgresql://u:a#b/c@d@db:5432/jobs x", "postgresql://u:***@db:5432/jobs x"),
    ],
)
def test_passwords_in_urls_are_masked(url: str, expected: str) -> None:
    assert mask_url(url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET https://me:pa55@api.test/jobs?Token=abc&count=100 failed",
            "GET https://me:***@api.test/jobs?Token=***&count=100 failed",
        ),
        ("x?api_key=1&apikey=2&KEY=3", "x?api_key=***&apikey=***&KEY=***"),
        (
            "a?access_token=1&password=2&secret=3&signature=4",
            "a?access_token=***&password=***&secret=***&signature=***",
        ),
        ("encoded%3Ftoken%3Dabc%26x", "encoded%3Ftoken%3D***%26x"),
        ("monkey=1&keyboard=2", "monkey=1&keyboard=2"),  # only whole parameter names
        ("alert run:abc posted", "alert run:abc posted"),
    ],
)
def test_redact_masks_every_secret_form(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_log_filter_masks_records_of_our_loggers_and_urllib3(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_filter()
    with caplog.at_level(logging.INFO):
        logging.getLogger("urllib3.connectionpool").warning("Retrying %s", "/x?token=abc")
        logging.getLogger("jobs_assets.events").info("GET http://u:pw@h/")
    assert "abc" not in caplog.text and "u:pw@" not in caplog.text
    assert "token=***" in caplog.text and "u:***@" in caplog.text


def test_delivery_secrets_the_environment_sets_reach_their_resources_by_name(
    bare_env: pytest.MonkeyPatch,
) -> None:
    """The alerts' webhook, the mail server and the delivery switches: set in the
    environment (as compose and the Helm chart set them), each reaches its resource as
    the variable's name and resolves to its value in the run; unset, the default."""
    from jobs_assets.defs.automation.resources import alerts_resource_from_env
    from jobs_assets.defs.searches.resources import search_delivery_from_env

    with alerts_resource_from_env().process_config_and_initialize_cm() as unset:
        assert unset.webhook_url is None
    assert search_delivery_from_env().process_config_and_initialize().mailer() is None
    given = {
        "JOBS_ALERT_WEBHOOK_URL": "https://hooks.example.org/services/T0/B0/secret",
        "JOBS_SMTP_URL": "smtps://jobs:pw@mail.example.org:465",
        "JOBS_MAIL_FROM": "alerts@example.org",
        "JOBS_ALERT_ALLOW_HTTP": "on",
        "JOBS_ALERT_ALLOW_PRIVATE": "on",
    }
    for name, value in given.items():
        bare_env.setenv(name, value)
    alerts = alerts_resource_from_env()
    delivery = search_delivery_from_env()
    named = {
        "JOBS_ALERT_WEBHOOK_URL": alerts.webhook_url,
        "JOBS_SMTP_URL": delivery.smtp_url,
        "JOBS_MAIL_FROM": delivery.mail_from,
        "JOBS_ALERT_ALLOW_HTTP": delivery.allow_http,
        "JOBS_ALERT_ALLOW_PRIVATE": delivery.allow_private,
    }
    assert named == {name: dg.EnvVar(name) for name in given}  # no secret in the config
    with alerts.process_config_and_initialize_cm() as resolved_alerts:
        assert resolved_alerts.webhook_url == given["JOBS_ALERT_WEBHOOK_URL"]
    resolved = delivery.process_config_and_initialize()
    assert (resolved.smtp_url, resolved.mail_from, resolved.allow_http, resolved.allow_private) == (
        given["JOBS_SMTP_URL"], "alerts@example.org", "on", "on",
    )  # fmt: skip
    assert resolved.mailer() is not None

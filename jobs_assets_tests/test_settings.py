"""Settings from the environment (SPEC §3), and secrets kept out of logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from jobs_assets.lib.redact import install_log_filter, redact
from jobs_assets.settings import DEFAULT_URLS, Settings, mask_url

SETTING_NAMES = [
    "PGHOST",
    "JOBS_DATA_DIR",
    "JOBS_REMOTIVE_URL",
    "JOBS_HIMALAYAS_MAX_PAGES",
    "JOBS_FETCH_WORKERS",
    "JOBS_MAX_RPS",
    "JOBS_REMOTIVE_MIN_INTERVAL_HOURS",
    "JOBS_JOBICY_MIN_INTERVAL_HOURS",
    "JOBS_BACKUP_KEEP",
    "JOBS_ALERT_WEBHOOK_URL",
]


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    return monkeypatch


def test_defaults_follow_the_spec(bare_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings.from_env()
    assert settings.pghost is None  # embedded PostgreSQL
    assert settings.data_dir == (tmp_path / "jobs_data").resolve()
    assert settings.urls == DEFAULT_URLS
    assert settings.himalayas_max_pages == 50 and settings.fetch_workers == 8
    assert settings.max_rps == 4 and settings.backup_keep == 10
    assert settings.min_interval_hours == {"remotive": 6, "jobicy": 1, "himalayas": 0}
    assert settings.alert_webhook_url is None


def test_environment_and_dotenv_override(bare_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("JOBS_FETCH_WORKERS=3\nJOBS_MAX_RPS=0\n")
    bare_env.setenv("JOBS_REMOTIVE_URL", "http://127.0.0.1:1/remotive")
    bare_env.setenv("JOBS_FETCH_WORKERS", "5")  # the environment wins over .env
    settings = Settings.from_env()
    assert settings.fetch_workers == 5 and settings.max_rps == 0
    assert settings.source("remotive").url == "http://127.0.0.1:1/remotive"
    assert settings.source("remotive").min_interval_hours == 6


def test_a_bad_number_names_the_setting(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("JOBS_MAX_RPS", "fast")
    with pytest.raises(ValueError, match="JOBS_MAX_RPS='fast' is not a number"):
        Settings.from_env()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://jobs:s3cret@db:5432/jobs", "postgresql://jobs:***@db:5432/jobs"),
        ("https://hooks.example/services/T/B/X", "https://hooks.example/services/T/B/X"),
        ("https://user@host/path", "https://user@host/path"),
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

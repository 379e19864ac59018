"""Settings from the environment, with the embedded defaults."""

from __future__ import annotations

import stat

import pytest

from partnermon.config import ConfigError, load_settings


def test_the_embedded_default_is_a_sqlite_file_in_the_instance_folder(tmp_path):
    settings = load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'partnermon.sqlite3'}"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.smtp_url is None and settings.result_retention_days == 90


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path)}).secret_key
    second = load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 48
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path), "PARTNERMON_SECRET_KEY": "given"}).secret_key == "given"


def test_postgres_urls_use_the_bundled_driver(tmp_path):
    env = {"PARTNERMON_INSTANCE_DIR": str(tmp_path), "PARTNERMON_DATABASE_URL": "postgres://u@db:5432/pm"}
    assert load_settings(env).database_url == "postgresql+psycopg://u@db:5432/pm"


def test_all_documented_variables_are_read(tmp_path):
    settings = load_settings({
        "PARTNERMON_INSTANCE_DIR": str(tmp_path), "PARTNERMON_BASE_URL": "https://pm.example.com/",
        "PARTNERMON_SMTP_URL": "smtp://mail:25", "PARTNERMON_MAIL_FROM": "alerts@pm.example.com",
        "PARTNERMON_PROBE_ALLOW_CIDRS": "10.0.0.0/8, 192.168.1.0/24", "PARTNERMON_RESULT_RETENTION_DAYS": "30",
        "PARTNERMON_REPORT_PROCESSES": "3",
    })
    assert settings.base_url == "https://pm.example.com"
    assert settings.smtp_url == "smtp://mail:25" and settings.mail_from == "alerts@pm.example.com"
    assert settings.probe_allow_cidrs == ("10.0.0.0/8", "192.168.1.0/24")
    assert settings.result_retention_days == 30
    assert settings.report_processes == 3


def test_reports_are_laid_out_on_the_machines_cores_by_default(tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path)}).report_processes == 4   # at most four
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path)}).report_processes == 1


@pytest.mark.parametrize("name, value, message", [
    ("PARTNERMON_RESULT_RETENTION_DAYS", "0", "at least 1"),
    ("PARTNERMON_REPORT_PROCESSES", "0", "at least 1"),
    ("PARTNERMON_REPORT_PROCESSES", "two", "whole number"),
    ("PARTNERMON_BASE_URL", "partnermon.example", "must start with http"),
])
def test_a_bad_value_names_the_variable(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path), name: value})
    assert name in str(info.value)

"""Settings from the environment, with the embedded defaults."""

from __future__ import annotations

import re
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
        "PARTNERMON_PROBE_ALLOW_CIDRS": "10.0.0.0/8, 192.168.1.0/24", "PARTNERMON_RESULT_RETENTION_DAYS": "30"
    })
    assert settings.base_url == "https://pm.example.com"
    assert settings.smtp_url == "smtp://mail:25" and settings.mail_from == "alerts@pm.example.com"
    assert settings.probe_allow_cidrs == ("10.0.0.0/8", "192.168.1.0/24")
    assert settings.result_retention_days == 30


@pytest.mark.parametrize("value", ["3", "0", "two", "\x00"])
def test_an_old_report_processes_setting_is_ignored_whatever_it_holds(tmp_path, value):
    # A report is one WeasyPrint document now: the variable means nothing, and must not stop an upgraded server.
    settings = load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path), "PARTNERMON_REPORT_PROCESSES": value})
    assert not hasattr(settings, "report_processes")


@pytest.mark.parametrize("name, value, message", [
    ("PARTNERMON_RESULT_RETENTION_DAYS", "0", "from 1 to 36500"),
    ("PARTNERMON_RESULT_RETENTION_DAYS", "abc", "whole number"),
    ("PARTNERMON_RESULT_RETENTION_DAYS", "-5", "whole number from 1"),
    ("PARTNERMON_RESULT_RETENTION_DAYS", "²", "whole number"),
    ("PARTNERMON_RESULT_RETENTION_DAYS", "٣٠", "whole number"),   # Arabic-Indic 30: int() takes it
    ("PARTNERMON_RESULT_RETENTION_DAYS", "9" * 5000, "whole number"),
    ("PARTNERMON_BASE_URL", "partnermon.example", "starting with http:// or https://"),
    ("PARTNERMON_BASE_URL", "http://", "https://partnermon.example.com"),
    ("PARTNERMON_BASE_URL", "http://[::1", "https://partnermon.example.com"),
    ("PARTNERMON_BASE_URL", "https://pm.example.com:99999", "https://partnermon.example.com"),
    ("PARTNERMON_DATABASE_URL", "not a url", "is not a database URL. Write it like postgresql://"),
    ("PARTNERMON_DATABASE_URL", "postgresql://h:abc/db", "is not a database URL"),
    ("PARTNERMON_DATABASE_URL", "postgresql://u:p@h:99999/db", "port is from 1 to 65535"),
    ("PARTNERMON_DATABASE_URL", "mysql://u@h/db", "'mysql', which partnermon does not support"),
    ("PARTNERMON_DATABASE_URL", "foo://", "'foo', which partnermon does not support"),
    ("PARTNERMON_DATABASE_URL", "postgresql+psycopg2://h/db", "does not ship; write postgresql://"),
    ("PARTNERMON_PROBE_ALLOW_CIDRS", "10.0.0.0/33", "is not a network"),
    ("PARTNERMON_SMTP_URL", "smtp://h:abc", "host or port that cannot be used"),
    ("PARTNERMON_SMTP_URL", "smtp://[::1", "host or port that cannot be used"),
    ("PARTNERMON_SMTP_URL", "imap://h", "must name an SMTP server"),
    ("PARTNERMON_MAIL_FROM", "not an address", "must be one email address"),
    ("PARTNERMON_MAIL_FROM", "a@b.example, c@d.example", "must be one email address"),
    ("PARTNERMON_MAIL_FROM", "a@b.example\nBcc: c@d.example", "control character"),
    ("PARTNERMON_INSTANCE_DIR", "a\0b", "control character"),
])
def test_a_bad_value_names_the_variable_and_the_fix(tmp_path, name, value, message):
    env = {"PARTNERMON_INSTANCE_DIR": str(tmp_path), name: value}
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        load_settings(env)
    assert str(info.value).startswith(name) and "\n" not in str(info.value)


@pytest.mark.parametrize("name, url", [
    ("PARTNERMON_DATABASE_URL", "postgresql://u:s3cret@[::1/db"),
    ("PARTNERMON_DATABASE_URL", "postgresql://u:s3cr@t!@db:abc/pm"),   # a password holding an "@"
    ("PARTNERMON_DATABASE_URL", "postgresql://u:s3/cr@t@db:abc/pm"),   # ... and a "/"
    ("PARTNERMON_SMTP_URL", "smtp://u:s3cr@t@mail:abc"),
])
def test_it_never_quotes_a_password_back(tmp_path, name, url):
    env = {"PARTNERMON_INSTANCE_DIR": str(tmp_path), name: url}
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert "s3cr" not in str(info.value) and "t!" not in str(info.value) and "u:***@" in str(info.value)


def test_an_instance_folder_that_cannot_keep_the_secret_key_is_refused_at_start(tmp_path):
    (tmp_path / "secret_key").mkdir()   # as good as unreadable, even for root
    with pytest.raises(ConfigError, match="PARTNERMON_INSTANCE_DIR .* cannot keep the generated secret key .*"
                                          "or set PARTNERMON_SECRET_KEY"):
        load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path)})


def test_a_report_folder_that_cannot_be_made_is_refused_at_start(tmp_path):
    (tmp_path / "a-file").write_text("")
    env = {"PARTNERMON_INSTANCE_DIR": str(tmp_path), "PARTNERMON_REPORT_DIR": str(tmp_path / "a-file" / "reports")}
    with pytest.raises(ConfigError, match="PARTNERMON_REPORT_DIR .* is not a folder partnermon can use"):
        load_settings(env)


@pytest.mark.parametrize("name, value", [
    ("PARTNERMON_DATABASE_URL", "sqlite:///relative.sqlite3"),
    ("PARTNERMON_DATABASE_URL", "postgresql:///pm"),   # a local socket
    ("PARTNERMON_SMTP_URL", "smtps://mail.example.test"),
    ("PARTNERMON_MAIL_FROM", "Harbour Advice <alerts@harbour.example>"),
    ("PARTNERMON_MAIL_FROM", '"Harbour, Advice" <alerts@harbour.example>'),
    ("PARTNERMON_BASE_URL", "https://example.com/partnermon"),
    ("PARTNERMON_RESULT_RETENTION_DAYS", "+30"),
])
def test_good_values_are_still_taken(tmp_path, name, value):
    load_settings({"PARTNERMON_INSTANCE_DIR": str(tmp_path), name: value})

"""The Flask application factory. It reads as a list of the parts that make up the web app."""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask

from partnermon.config import Settings
from partnermon.paths import STATIC_DIR, templates_dir
from partnermon.runtime import Runtime


def create_app(settings: Settings | None = None, runtime: Runtime | None = None, **flask_config: Any) -> Flask:
    runtime = runtime or Runtime.from_settings(settings)
    settings = runtime.settings
    app = Flask(
        __name__,
        template_folder=str(templates_dir()),
        static_folder=str(STATIC_DIR),
        instance_path=str(settings.instance_dir),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        MAX_FORM_MEMORY_SIZE=settings.max_content_length,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        SESSION_COOKIE_NAME="partnermon_session",
        PERMANENT_SESSION_LIFETIME=60 * 60 * 24 * 14,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.config.update(flask_config)
    app.extensions["partnermon"] = runtime

    from partnermon.web import assets, context, converters, errors, navigation, security, wording
    from partnermon.web import account, admin, auth, home, maintenance, moments, partners, practice_settings
    from partnermon.web import touchpoint_list, touchpoints, users
    from partnermon.web import check_in, feedback_form, health
    from partnermon.web import api_common, api_keys
    from partnermon.web import api, api_docs, api_read  # noqa: F401 - each adds its routes to api_common.bp
    from partnermon.web import feedback_import
    from partnermon.web import feedback
    from partnermon.web import subscriptions
    from partnermon.web import followups
    from partnermon.web import alert_preferences, unsubscribe
    from partnermon.web import scores
    from partnermon.web import reports
    from partnermon.web import webhooks
    from partnermon.web import promises
    from partnermon.web import themes

    converters.init_app(app)   # before any blueprint: every rule is built with them
    context.init_app(app)
    security.init_app(app)
    navigation.init_app(app)
    wording.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    for module in (auth, account, home, partners, touchpoints, touchpoint_list, maintenance, moments,
                   practice_settings, users, admin, feedback_form, api_keys, health):
        app.register_blueprint(module.bp)
    # One blueprint for the whole API: web/api.py writes, web/api_read.py reads, web/api_docs.py documents.
    app.register_blueprint(api_common.bp)
    app.register_blueprint(feedback_import.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(subscriptions.bp)
    app.register_blueprint(followups.bp)
    app.register_blueprint(check_in.bp)
    app.register_blueprint(alert_preferences.bp)
    app.register_blueprint(unsubscribe.bp)
    app.register_blueprint(scores.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(promises.bp)
    app.register_blueprint(themes.bp)
    _freeze_start_up_objects()
    return app


_start_up_frozen = False


def _freeze_start_up_objects() -> None:
    """Once per process, after the first app is built: move what start-up loaded (modules, SciPy's statistics,
    compiled templates' code) out of the garbage collector's reach (``gc.freeze``, as the Python docs suggest for
    servers). They live as long as the process, yet every full collection rescanned all of them — on a
    practice with 40 partners that was a third of a dashboard page's CPU time (bench/dashboard.py)."""
    global _start_up_frozen
    if not _start_up_frozen:
        _start_up_frozen = True
        gc.collect()
        gc.freeze()

"""The web app's blueprints. Views are thin: validate input, call one service, render or redirect.

Nothing here talks to partner sites, SMTP or the scheduler; that is the services' and workers' job.
"""

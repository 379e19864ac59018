"""Monthly reports (issue 7): one PDF per practice per month.

``content`` gathers what a report shows (from the same scores as the dashboard), ``sections`` builds each
partner's part of it, ``render`` turns it into HTML and, through WeasyPrint with a fetcher that loads only
the report's own assets, into a PDF. Scheduling, storage and delivery live beside them and call these; none
of these modules writes to the database or sends anything.
"""

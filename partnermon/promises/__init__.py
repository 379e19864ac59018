"""Promises (issue 20): what partners promise or clients expect, and whether it was kept each month."""

"""Deployment settings helpers; zappa_settings.json and the IAM policies live next to this package."""

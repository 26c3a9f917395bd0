"""Zappa's ``prebuild_script`` in the committed settings: ``zappa deploy``, ``update`` or ``package`` run here stops.

Zappa zips the folder it runs in, and this one may hold exports, databases or a ``.env``. ``make deploy`` and
``make package`` run Zappa in a staged folder holding only the app's files, with settings that leave this out.
"""


def refuse() -> None:
    """Stop a Zappa build started in the project folder."""
    raise SystemExit("Use make deploy STAGE=... or make package STAGE=...: Zappa run in the project folder would zip "
                     "every file in it.")

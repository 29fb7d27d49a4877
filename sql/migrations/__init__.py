"""The SQL migrations, shipped as package data of the package `omniclaude_migrations`.

Read them with `omniclaude.db.migrations.load_migrations()`. This file makes the directory a regular
package: on Python 3.10 and 3.11, `importlib.resources.files()` fails on a namespace package installed
in editable mode, whose path includes setuptools' editable path hook.
"""

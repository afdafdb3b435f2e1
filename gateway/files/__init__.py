"""Files in and out: uploads, generated files, signed download links, purge.

* ``models.py`` — the ``stored_files`` table (content in the database, and why).
* ``services.py`` — ``store_file``, ``open_file``, ``download_url``, ``purge_expired``: the
  API modules and jobs use (exported by ``gateway.sdk``).
* ``http.py`` — ``POST /files`` (upload, CSRF-safe) and ``GET /files/{id}`` (signed link).
* ``signing.py`` — the link's HMAC; ``names.py`` — safe names, media types, disposition.
* ``graphql.py`` — the ``File`` type and the ``file(id)`` query.
"""

"""Rostro Studio: the operator's web console at ``/studio``, served by ``rostro serve``.

``routes`` gathers the pages: ``signin`` (password, sessions, language), ``resources``
(resources, Keys and Endpoint, Usage), ``tools`` (Try it and People, whose scripts call the
Face API itself with the resource's key), ``assets`` (local CSS and scripts). ``accounts``
hashes the admin password and opens sessions; ``web`` holds what every page shares;
``i18n`` the English and Spanish catalogue; ``charts`` the usage chart.
"""

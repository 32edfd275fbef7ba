"""What the API, the Studio and the CLI share between the Azure contract and the engine.

The safe URL fetcher (``url_fetch``), the memory bounds of image work (``memory``), matching
and confidence (``matching``), gallery training (``galleries``), the settings and state of one
server process (``settings``, ``state``). Rules: no HTTP types (no fastapi/starlette imports)
and no Azure spellings here; ``rostro.api`` maps this room's errors to Azure's answers.
"""

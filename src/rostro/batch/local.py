"""The single-process backend of ``rostro detect``: one analyzer, the files in order."""

from __future__ import annotations

from collections.abc import Iterator

from tqdm import tqdm

from rostro.batch.records import DetectOptions, Record, analyse_file
from rostro.vision.analyzer import Analyzer


def progress_bar(total: int, enabled: bool, initial: int = 0) -> tqdm:
    """The bar every backend shows on stderr: images done of ``total``."""
    return tqdm(total=total, initial=initial, desc="images", unit="img", disable=not enabled)


def analyse_locally(analyzer: Analyzer, sources: list[str], options: DetectOptions,
                    show_progress: bool) -> Iterator[Record]:
    """Yield one record per source, in order, computed in this process."""
    with progress_bar(len(sources), show_progress) as bar:
        for source in sources:
            yield analyse_file(analyzer, source, options)
            bar.update(1)

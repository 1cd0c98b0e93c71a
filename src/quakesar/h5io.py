"""Opening HDF5 files with errors that name the file.

HDF5 reports a truncated or corrupt file as ``OSError: Unable to synchronously open file
(truncated file: eof = ..., stored_eof = ...)`` or ``(file signature not found)``, and a damaged
chunk as ``OSError: Can't read data (...)``, without saying which file: in a job that reads a
dozen interferograms the user cannot tell which one to delete (issue 17, item 3). Every HDF5 file
quakesar opens goes through :func:`open_h5`, so that both kinds of error name the path and say
what to do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import h5py


class HDF5FileError(OSError):
    """An HDF5 file cannot be opened or read; the message names the file (an ``OSError``, so
    existing ``except OSError`` handlers keep working)."""


def _names(path: Path, exc: BaseException) -> bool:
    return str(path) in str(exc) or os.fspath(path.name) in str(exc)


def _message(path: Path, mode: str, exc: BaseException, when: str) -> str:
    hint = ""
    if mode == "r" and path.is_file():
        hint = (f" ({path.stat().st_size} bytes): the file is truncated or corrupt; delete it and re-run the job "
                "that writes it")
    return f"{path}: cannot {when} HDF5 file{hint} ({exc})"


class NamedFile(h5py.File):
    """An ``h5py.File`` whose ``with`` block re-raises HDF5 read errors (``OSError``) naming the file."""

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        path = Path(self.filename) if self.id.valid else None
        super().__exit__(exc_type, exc, tb)
        if isinstance(exc, OSError) and not isinstance(exc, HDF5FileError) and path is not None and not _names(path, exc):
            raise HDF5FileError(_message(path, "r", exc, "read from")) from exc


def open_h5(path: str | os.PathLike[str], mode: str = "r", **kwargs: Any) -> h5py.File:
    """``h5py.File(path, mode, **kwargs)``; a missing file raises ``FileNotFoundError`` and an
    unreadable one :class:`HDF5FileError`, both naming ``path`` (and for reading, its size and
    the remedy). Used as a context manager, errors while reading inside the block name it too."""
    p = Path(path)
    try:
        return NamedFile(p, mode, **kwargs)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{p}: no such HDF5 file") from exc
    except OSError as exc:
        raise HDF5FileError(_message(p, mode, exc, "open" if mode == "r" else f"open (mode {mode!r})")) from exc

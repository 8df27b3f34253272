"""Recognizer models that do not ship in a package: a catalogue, a verified,
resumable download, and an atomic unpack into the models folder.

Interrupted downloads leave only ``<name>.zip.part`` (resumed with an HTTP Range
request next time); a bad size or digest removes it and says so. The model
folder appears by a single rename, so it is either complete or absent.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coach.errors import ModelError

CHUNK_BYTES = 1 << 16


@dataclass(frozen=True)
class ModelSpec:
    name: str           # what the user types: coach models fetch vosk-small-en
    url: str
    size_bytes: int
    sha256: str
    folder: str         # the archive's single top folder, and the installed name
    engine: str
    license: str


CATALOGUE: dict[str, ModelSpec] = {
    "vosk-small-en": ModelSpec(
        name="vosk-small-en",
        url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
        size_bytes=41_205_931,
        sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
        folder="vosk-model-small-en-us-0.15",
        engine="vosk",
        license="Apache-2.0",
    ),
}
DEFAULT_MODEL = "vosk-small-en"


def models_dir() -> Path:
    """$COACH_MODELS_DIR, else the repository's models/ folder."""
    override = os.environ.get("COACH_MODELS_DIR")
    if override:
        return Path(override)
    import coach
    return Path(coach.__file__).resolve().parent.parent / "models"


def installed_path(spec: ModelSpec, directory: Path | None = None) -> Path | None:
    path = (directory or models_dir()) / spec.folder
    return path if path.is_dir() else None


def list_models(directory: Path | None = None) -> list[tuple[ModelSpec, Path | None]]:
    return [(spec, installed_path(spec, directory)) for spec in CATALOGUE.values()]


Progress = Callable[[int, int], None]


def fetch(spec: ModelSpec, directory: Path | None = None, progress: Progress | None = None,
          timeout_seconds: float = 30.0) -> Path:
    """Download (resuming), verify, unpack; return the installed folder."""
    directory = directory or models_dir()
    target = directory / spec.folder
    if target.is_dir():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    part = directory / f"{spec.folder}.zip.part"
    _download(spec, part, progress, timeout_seconds)
    _verify(spec, part)
    _unpack(spec, part, directory)
    part.unlink(missing_ok=True)
    return target


def _download(spec: ModelSpec, part: Path, progress: Progress | None, timeout_seconds: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    if have > spec.size_bytes:
        part.unlink()
        have = 0
    if have == spec.size_bytes:
        return
    request = urllib.request.Request(spec.url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            if have and response.status != 206:
                have = 0            # the server ignored the range: start again
            with open(part, "ab" if have else "wb") as out:
                while True:
                    block = response.read1(CHUNK_BYTES)     # what has arrived, not a full block
                    if not block:
                        break
                    out.write(block)
                    have += len(block)
                    if progress:
                        progress(have, spec.size_bytes)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have == spec.size_bytes:
            return
        raise ModelError("download-failed", f"{spec.url}: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise ModelError("download-interrupted",
                         f"download of {spec.name} stopped at {have:,} of {spec.size_bytes:,} bytes "
                         f"({reason}); run the same command again to resume") from error
    if have < spec.size_bytes:
        raise ModelError("download-interrupted",
                         f"download of {spec.name} stopped at {have:,} of {spec.size_bytes:,} bytes; "
                         "run the same command again to resume")


def _verify(spec: ModelSpec, part: Path) -> None:
    size = part.stat().st_size
    digest = hashlib.sha256()
    with open(part, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    if size != spec.size_bytes or digest.hexdigest() != spec.sha256:
        part.unlink(missing_ok=True)
        raise ModelError("download-corrupt",
                         f"{spec.name}: downloaded file does not match the published size and SHA-256 "
                         f"({size:,} bytes, {digest.hexdigest()[:12]}...); it was removed, try again")


def _unpack(spec: ModelSpec, archive: Path, directory: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.folder}.", dir=directory))
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():
                parts = Path(member).parts
                if not parts or parts[0] != spec.folder or ".." in parts or Path(member).is_absolute():
                    raise ModelError("archive-unexpected",
                                     f"{spec.name}: unexpected entry {member!r} in the archive")
            zipped.extractall(staging)
        os.replace(staging / spec.folder, directory / spec.folder)
    except zipfile.BadZipFile as error:
        archive.unlink(missing_ok=True)
        raise ModelError("archive-broken", f"{spec.name}: not a valid zip archive ({error})") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)

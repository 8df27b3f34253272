"""Model download against a local HTTP server on the loopback address (never the internet)."""

from __future__ import annotations

import hashlib
import io
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from coach import cli
from coach.listen import models
from coach.errors import ModelError
from coach.listen.models import ModelSpec, fetch, list_models

FOLDER = "tiny-model-0.1"


def make_zip(folder: str = FOLDER) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{folder}/am/final.mdl", bytes(range(256)) * 400)
        archive.writestr(f"{folder}/conf/model.conf", "--beam=10\n")
        archive.writestr(f"{folder}/README", "tiny test model\n")
    return buffer.getvalue()


class Server:
    """Serves one archive; ``mode`` decides how badly."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.mode = "good"          # good | corrupt | truncated | drop | slow
        self.ranges: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.ranges.append(self.headers.get("Range"))
                body = server.payload
                if server.mode == "corrupt":
                    body = body[:-10] + b"X" * 10
                start = 0
                header = self.headers.get("Range")
                if header and server.mode != "norange":
                    start = int(header.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                rest = body[start:]
                if server.mode == "truncated":
                    rest = rest[: len(rest) // 3]
                self.send_header("Content-Length", str(len(rest) if server.mode != "drop" else len(body) - start))
                self.end_headers()
                if server.mode == "drop":            # half, then the connection dies
                    self.wfile.write(rest[: len(rest) // 2])
                    self.wfile.flush()
                    return
                if server.mode == "slow":            # half, then stalls past the client's timeout
                    self.wfile.write(rest[: len(rest) // 2])
                    self.wfile.flush()
                    time.sleep(1.0)
                    return
                self.wfile.write(rest)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{FOLDER}.zip"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def payload() -> bytes:
    return make_zip()


@pytest.fixture
def server(payload: bytes) -> Iterator[Server]:
    s = Server(payload)
    yield s
    s.close()


def spec_for(server: Server, payload: bytes, folder: str = FOLDER) -> ModelSpec:
    return ModelSpec("tiny", server.url, len(payload), hashlib.sha256(payload).hexdigest(), folder, "vosk", "test")


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_good_download_is_verified_and_unpacked(tmp_path: Path, server: Server, payload: bytes) -> None:
    seen: list[tuple[int, int]] = []
    path = fetch(spec_for(server, payload), tmp_path, lambda done, total: seen.append((done, total)))
    assert path == tmp_path / FOLDER
    assert (path / "am" / "final.mdl").read_bytes() == bytes(range(256)) * 400
    assert leftovers(tmp_path) == [FOLDER]              # no .part, no staging folder
    assert seen[-1] == (len(payload), len(payload))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_installed_model_is_not_downloaded_again(tmp_path: Path, server: Server, payload: bytes) -> None:
    fetch(spec_for(server, payload), tmp_path)
    fetch(spec_for(server, payload), tmp_path)
    assert len(server.ranges) == 1


def test_corrupt_download_is_a_clear_error_and_removed(tmp_path: Path, server: Server, payload: bytes) -> None:
    server.mode = "corrupt"
    with pytest.raises(ModelError) as caught:
        fetch(spec_for(server, payload), tmp_path)
    assert caught.value.code == "download-corrupt"
    assert "SHA-256" in caught.value.message
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", ["truncated", "drop"])
def test_cut_download_leaves_only_the_part_file_then_resumes(tmp_path: Path, server: Server, payload: bytes,
                                                             mode: str) -> None:
    spec = spec_for(server, payload)
    server.mode = mode
    with pytest.raises(ModelError) as caught:
        fetch(spec, tmp_path)
    assert caught.value.code == "download-interrupted"
    assert leftovers(tmp_path) == [f"{FOLDER}.zip.part"]
    have = (tmp_path / f"{FOLDER}.zip.part").stat().st_size
    assert 0 < have < len(payload)
    server.mode = "good"
    path = fetch(spec, tmp_path)
    assert server.ranges[-1] == f"bytes={have}-"
    assert (path / "README").read_text() == "tiny test model\n"
    assert leftovers(tmp_path) == [FOLDER]


def test_slow_server_times_out_and_the_next_run_resumes(tmp_path: Path, server: Server, payload: bytes) -> None:
    spec = spec_for(server, payload)
    server.mode = "slow"
    with pytest.raises(ModelError):
        fetch(spec, tmp_path, timeout_seconds=0.3)
    assert leftovers(tmp_path) == [f"{FOLDER}.zip.part"]
    have = (tmp_path / f"{FOLDER}.zip.part").stat().st_size
    assert have > 0
    server.mode = "good"
    fetch(spec, tmp_path)
    assert server.ranges[-1] == f"bytes={have}-"
    assert leftovers(tmp_path) == [FOLDER]


def test_server_ignoring_range_restarts_cleanly(tmp_path: Path, server: Server, payload: bytes) -> None:
    spec = spec_for(server, payload)
    (tmp_path / f"{FOLDER}.zip.part").write_bytes(payload[:1000])
    server.mode = "norange"
    assert fetch(spec, tmp_path).is_dir()


def test_archive_with_an_unexpected_folder_is_refused(tmp_path: Path, server: Server) -> None:
    server.payload = make_zip("something-else")
    with pytest.raises(ModelError) as caught:
        fetch(spec_for(server, server.payload), tmp_path)
    assert caught.value.code == "archive-unexpected"
    assert not (tmp_path / FOLDER).exists() and not (tmp_path / "something-else").exists()
    assert [n for n in leftovers(tmp_path) if not n.endswith(".part")] == []


def test_unreachable_server_is_a_clear_error(tmp_path: Path, payload: bytes) -> None:
    spec = ModelSpec("tiny", "http://127.0.0.1:9/x.zip", len(payload), "0" * 64, FOLDER, "vosk", "test")
    with pytest.raises(ModelError):
        fetch(spec, tmp_path, timeout_seconds=2)
    assert not (tmp_path / FOLDER).exists()


def test_models_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MODELS_DIR", str(tmp_path / "m"))
    assert models.models_dir() == tmp_path / "m"
    monkeypatch.delenv("COACH_MODELS_DIR")
    assert models.models_dir().name == "models"


def test_catalogue_has_the_published_vosk_model() -> None:
    spec = models.CATALOGUE["vosk-small-en"]
    assert spec.size_bytes == 41_205_931
    assert spec.sha256 == "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
    assert spec.folder == "vosk-model-small-en-us-0.15" and spec.url.endswith(spec.folder + ".zip")


def test_cli_fetch_and_list(tmp_path: Path, server: Server, payload: bytes, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COACH_MODELS_DIR", str(tmp_path))
    monkeypatch.setitem(models.CATALOGUE, "tiny", spec_for(server, payload))
    assert cli.main(["models", "list"]) == 0
    assert "tiny" in capsys.readouterr().out
    assert cli.main(["models", "fetch", "tiny"]) == 0
    captured = capsys.readouterr()
    assert "Fetching tiny" in captured.err and str(tmp_path / FOLDER) in captured.out
    assert "━" not in captured.err                  # no bar when stderr is not a terminal
    assert [p for s, p in list_models(tmp_path) if s.name == "tiny"] == [tmp_path / FOLDER]
    assert cli.main(["models", "fetch", "no-such-model"]) == 2

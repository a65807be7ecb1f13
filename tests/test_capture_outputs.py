"""Models, figures and printed output of a cell (capture/outputs, capture/streams)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
import pytest

from trackbook.capture.outputs import dump_model, figures_png, is_model, open_figures
from trackbook.capture.streams import StreamTee, capture_streams

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class BlobRef:
    id: str
    size: int


class HashingFile(io.RawIOBase):
    """A stand-in for the store's blob writer: hashes as it writes to a temp file."""

    def __init__(self, directory: str) -> None:
        self._file = tempfile.NamedTemporaryFile(dir=directory, delete=False)  # noqa: SIM115
        self._digest = hashlib.sha256()
        self._size = 0
        self.largest_write = 0
        self.ref: BlobRef | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._file.write(view)
        self._digest.update(view)
        self._size += len(view)
        self.largest_write = max(self.largest_write, len(view))
        return len(view)

    def finish(self) -> str:
        self._file.close()
        self.ref = BlobRef(self._digest.hexdigest(), self._size)
        final = os.path.join(os.path.dirname(self._file.name), self.ref.id)
        os.replace(self._file.name, final)
        return final


@contextmanager
def blob_writer(directory: str, written: list[HashingFile]) -> Iterator[HashingFile]:
    handle = HashingFile(directory)
    written.append(handle)
    yield handle
    handle.finish()


@pytest.fixture(scope="module")
def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return data.data, data.target


# --- models ---------------------------------------------------------------------


def test_is_model_for_fitted_sklearn_estimators(breast_cancer) -> None:
    from sklearn.cluster import KMeans
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = breast_cancer
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    assert not is_model(forest)
    forest.fit(x, y)
    assert is_model(forest)
    assert is_model(StandardScaler().fit(x))  # transform, no predict
    assert is_model(KMeans(n_clusters=2, n_init=1, random_state=0).fit(x))
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    assert not is_model(pipeline)
    assert is_model(pipeline.fit(x, y))
    assert not is_model(RandomForestClassifier)  # the class itself
    for value in (x, 3, "model", None, {"fit": 1}):
        assert not is_model(value)


def test_dump_model_streams_into_the_blob_writer(tmp_path, breast_cancer) -> None:
    from sklearn.ensemble import RandomForestClassifier

    x, y = breast_cancer
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(x, y)
    written: list[HashingFile] = []
    blob_id, size = dump_model(forest, blob_writer(str(tmp_path), written))
    path = tmp_path / blob_id
    assert path.stat().st_size == size
    assert hashlib.sha256(path.read_bytes()).hexdigest() == blob_id
    assert written[0].largest_write < size  # streamed in pieces, not one big buffer
    loaded = joblib.load(path)
    assert (loaded.predict(x) == forest.predict(x)).all()
    # Equal models give equal blobs: a reproduced run stores nothing new.
    again, _ = dump_model(forest, blob_writer(str(tmp_path), written))
    assert again == blob_id
    refit = RandomForestClassifier(n_estimators=50, random_state=0).fit(x, y)
    assert dump_model(refit, blob_writer(str(tmp_path), written))[0] == blob_id
    other = RandomForestClassifier(n_estimators=50, random_state=1).fit(x, y)
    assert dump_model(other, blob_writer(str(tmp_path), written))[0] != blob_id


def test_capture_helpers_import_no_library_themselves() -> None:
    script = textwrap.dedent(
        """
        import sys
        from trackbook.capture.outputs import is_model, open_figures
        class Fake:
            def fit(self): ...
            def predict(self): ...
        assert not is_model(Fake())
        assert open_figures() == []
        heavy = {"sklearn", "matplotlib", "torch", "xgboost", "lightgbm", "keras"}
        print(sorted(heavy & set(sys.modules)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- figures --------------------------------------------------------------------


def test_figures_png_labels_and_bytes() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    plt.close("all")
    try:
        first = plt.figure(3)
        first.gca().plot([1, 2, 3])
        second = plt.figure()
        second.suptitle("Loss / epoch")
        assert open_figures() == [first, second]
        standalone = Figure()
        standalone.add_subplot().bar([1, 2], [3, 4])
        rendered = figures_png([first, second, standalone], dpi=50)
        labels = [label for label, _ in rendered]
        assert labels == ["figure-3", "figure-4-loss-epoch", "figure-3-2"]
        for _, png in rendered:
            assert png.startswith(PNG_SIGNATURE)
        # 6.4 x 4.8 inches at 50 dpi: the width sits in the IHDR chunk
        assert int.from_bytes(rendered[0][1][16:20], "big") == 320
        assert figures_png([first], dpi=50)[0][1] == rendered[0][1]  # deterministic
    finally:
        plt.close("all")
    assert open_figures() == []


# --- streams --------------------------------------------------------------------


class Target(io.StringIO):
    """A stream with the extra attributes ipykernel's OutStream has."""

    def __init__(self) -> None:
        super().__init__()
        self.session = "session-object"
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return 42

    def set_parent(self, parent: dict[str, Any]) -> None:
        self.parent_header = parent


def test_tee_passes_everything_through_and_keeps_a_capped_copy() -> None:
    target = Target()
    tee = StreamTee(target, cap=10)
    assert tee.write("hello ") == 6
    print("world and more", file=tee)
    tee.writelines(["x", "y"])
    tee.flush()
    assert target.getvalue() == "hello world and more\nxy"
    assert target.flushes == 1
    assert tee.getvalue().startswith("hello worl")
    assert tee.truncated == len("hello world and more\nxy") - 10
    assert f"{tee.truncated} more characters" in tee.getvalue()
    assert tee.isatty() and tee.fileno() == 42 and tee.writable()
    assert tee.encoding == "utf-8"
    assert tee.session == "session-object"  # unknown attributes come from the target
    tee.set_parent({"msg_id": "1"})
    assert target.parent_header == {"msg_id": "1"}
    tee.parent_header = {"msg_id": "2"}  # and are set on it
    assert target.parent_header == {"msg_id": "2"}
    tee.close()
    assert not target.closed


def test_tee_without_fileno_raises_unsupported_operation() -> None:
    class Minimal:
        def write(self, text: str) -> None:
            pass

    tee = StreamTee(Minimal())
    with pytest.raises(io.UnsupportedOperation):
        tee.fileno()
    assert tee.write("abc") == 3
    assert not tee.isatty()


def test_capture_streams_restores_even_on_exception(capsys) -> None:
    before_out, before_err = sys.stdout, sys.stderr
    with pytest.raises(ZeroDivisionError, match="cell failed"), capture_streams() as captured:
        print("to out")
        print("to err", file=sys.stderr)
        raise ZeroDivisionError("cell failed")
    assert sys.stdout is before_out and sys.stderr is before_err
    assert captured.stdout == "to out\n" and captured.stderr == "to err\n"
    seen = capsys.readouterr()
    assert seen.out == "to out\n" and seen.err == "to err\n"  # the user still saw it


def test_capture_streams_cap_and_a_permanent_user_redirect(capsys) -> None:
    replacement = io.StringIO()
    with capture_streams(cap=5) as captured:
        print("0123456789")
        sys.stderr = replacement  # the cell redirects stderr for good
    assert captured.stdout.startswith("01234\n[... 6 more characters")
    assert sys.stderr is replacement
    sys.stderr = sys.__stderr__


def test_tee_around_ipykernel_outstream() -> None:
    zmq = pytest.importorskip("zmq")
    iostream = pytest.importorskip("ipykernel.iostream")
    from jupyter_client.session import Session

    context = zmq.Context()
    publisher = context.socket(zmq.PUB)
    port = publisher.bind_to_random_port("tcp://127.0.0.1")
    subscriber = context.socket(zmq.SUB)
    subscriber.setsockopt(zmq.SUBSCRIBE, b"")
    subscriber.connect(f"tcp://127.0.0.1:{port}")
    thread = iostream.IOPubThread(publisher)
    thread.start()
    session = Session(key=b"test-key")
    stream = iostream.OutStream(session, thread, "stdout", watchfd=False)
    try:
        tee = StreamTee(stream)
        assert tee.session is session and tee.pub_thread is thread
        tee.set_parent({"header": {"msg_id": "m1"}})
        assert stream.parent_header == {"msg_id": "m1"}
        texts: list[str] = []
        for attempt in range(50):  # PUB/SUB joins asynchronously: retry until heard
            tee.write(f"attempt {attempt}\n")
            tee.flush()
            if subscriber.poll(100):
                while subscriber.poll(50):
                    message = session.recv(subscriber, mode=0)[1]
                    if message and message["msg_type"] == "stream":
                        texts.append(message["content"]["text"])
                if texts:
                    break
        assert texts and texts[-1].startswith("attempt")
        assert tee.getvalue().startswith("attempt 0\n")
    finally:
        stream.close()
        # Let the loop finish cancelling its gc task before it stops; otherwise
        # asyncio reports a pending task at exit (ipykernel's own shutdown order).
        task = getattr(thread, "_event_pipe_gc_task", None)
        if task is not None:
            thread.io_loop.add_callback(task.cancel)
            time.sleep(0.2)
        thread.stop()
        thread.close()
        subscriber.close(linger=0)
        context.term()

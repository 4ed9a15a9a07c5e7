"""The Ray engine: ``notesynth synth --engine ray``, and ``synthesize_dataset`` for a team's own Ray pipeline.

Ray Data runs ``Synthesizer.synthesize_batch`` (the local engine's per-note function) in a
pool of actors: ``NoteSynthesizer`` loads the detector and the model once per actor, and
``Dataset.map_batches(..., compute=ActorPoolStrategy(size=N))`` feeds it batches of notes.
For ``synth``, ``RayEngine`` plugs into ``batch/runner.py``: the runner reads the input,
skips the notes a previous run finished, hands the rest over, and writes each result that
streams back through the same sinks and manifest as the local engine.  A note's result is
a pure function of (text, id, settings, seed), so the written notes are byte-identical to
``--engine local``.

Nothing that leaves an actor carries note text except a written note's synthetic text:
``NoteSynthesizer.__call__`` turns every exception into error results naming the note id
and the exception type only, so Ray's logs and task errors never see a note.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Iterator

from notesynth.batch.engines import Engine, EngineError
from notesynth.batch.limits import synthesize_bounded
from notesynth.config import SynthConfig
from notesynth.pipeline import NoteResult, Synthesizer
from notesynth.spans import Span

log = logging.getLogger(__name__)

INSTALL_HINT = 'the Ray engine needs Ray: pip install "notesynth[ray]"'

# Columns of the dataset ``synthesize_dataset`` returns, one row per input row:
#   id, status ("written" | "held" | "error"), text (the synthetic note; only when written),
#   error (never note text), phi_spans, words, masked_words, attempts, seconds, risk (the
#   risk score; null when the check did not run), spans (carried labelled spans, JSON
#   [{"start","end","label"}]; null when none were given) and manifest (the note's manifest
#   row as JSON, exactly as `synth` records it, less the driver's source/hash/settings/output).
RESULT_COLUMNS = ("id", "status", "text", "error", "phi_spans", "words", "masked_words", "attempts",
                  "seconds", "risk", "spans", "manifest")


@dataclass
class RayOptions:
    """How the Ray engine runs; every field has a CLI flag or a sensible default."""

    address: str | None = None        # None: start a local cluster for the run; "auto" or host:port: join one
    num_actors: int | None = None     # None: one per ``cpus_per_actor`` CPUs of the cluster (one per GPU on cuda)
    batch_size: int | None = None     # notes per Ray batch (one actor call); None: the config's batch_size
    cpus_per_actor: float = 1.0       # CPUs reserved per actor (also its torch threads)
    num_cpus: int | None = None       # CPUs of a local cluster; None: all of this machine's
    temp_dir: str | None = None       # root of a local cluster's session and log folders; None: Ray's (/tmp/ray)
    window: int | None = None         # notes handed to Ray at a time (None: all); each window restarts the actors
    max_seconds_per_note: float = 0.0  # each actor's per-note watchdog, as the local engine's (0: none)
    progress: bool = True             # a progress line on the driver every 30 s


# ---------------------------------------------------------------- the actor

class NoteSynthesizer:
    """The Ray Data callable class: one per actor, loads the detector and the model once.

    ``__call__`` takes a batch (a ``pyarrow.Table`` with the id and text columns, and
    optionally spans) and returns a table of ``RESULT_COLUMNS``, one row per input row, in
    order.  It never raises for a note: a bad row, or a note that breaks the batch, becomes
    an error row that names the id and the exception type only.
    """

    def __init__(self, config: SynthConfig, threads: int | None = None, id_column: str = "id",
                 text_column: str = "text", spans_column: str = "spans", max_seconds_per_note: float = 0.0):
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.columns = (id_column, text_column, spans_column)
        self.max_seconds = float(max_seconds_per_note or 0)
        self.synth = Synthesizer(config)
        self.synth.detector, self.synth.infiller, self.synth.checker  # noqa: B018 - load now, once per actor

    def __call__(self, batch):
        id_col, text_col, spans_col = self.columns
        n = batch.num_rows
        results: dict[int, NoteResult] = {}
        ids: list = [None] * n
        try:
            names = set(batch.column_names)
            ids = _ids(batch.column(id_col).to_pylist() if id_col in names else [None] * n)
            texts = batch.column(text_col).to_pylist() if text_col in names else [None] * n
            spans = batch.column(spans_col).to_pylist() if spans_col in names else [None] * n
            todo, annotations = [], {}
            for i in range(n):
                problem = _row_problem(ids[i], texts[i], text_col)
                if problem is None and spans[i] is not None:
                    try:
                        annotations[ids[i]] = _parse_spans(spans[i])
                    except (ValueError, TypeError, KeyError):
                        problem = "its spans are not a list of {start, end, label}"
                if problem:
                    results[i] = _failed(ids[i], problem)
                else:
                    todo.append((i, ids[i], texts[i]))
            results.update(self._synthesize(todo, annotations))
        except Exception as exc:  # noqa: BLE001 - the batch itself is unreadable: every row an error
            log.warning("a batch of %d notes could not be read (%s)", n, type(exc).__name__)
            for i in range(n):
                results.setdefault(i, _failed(ids[i], f"batch unreadable ({type(exc).__name__})"))
        ordered = [results[i] for i in range(n)]
        try:
            return result_table(ordered)
        except Exception as exc:  # noqa: BLE001 - a result Arrow can't hold: that note alone is an error
            kept = []
            for res in ordered:
                try:
                    result_table([res])
                    kept.append(res)
                except Exception:  # noqa: BLE001
                    kept.append(_failed(res.id, f"result not transferable ({type(exc).__name__})"))
            return result_table(kept)

    def _synthesize(self, todo, annotations) -> dict[int, NoteResult]:
        if not todo:
            return {}
        try:
            done = synthesize_bounded(self.synth, [(note_id, text) for _, note_id, text in todo], annotations,
                                      self.max_seconds)
            return {i: res for (i, _, _), res in zip(todo, done)}
        except Exception:  # noqa: BLE001 - isolate the note that breaks the batch (outputs are batch-independent)
            out = {}
            for i, note_id, text in todo:
                try:
                    one = {note_id: annotations[note_id]} if note_id in annotations else None
                    out[i] = synthesize_bounded(self.synth, [(note_id, text)], one, self.max_seconds)[0]
                except Exception as exc:  # noqa: BLE001
                    out[i] = _failed(note_id, f"synthesis failed ({type(exc).__name__})")
            return out


def _ids(values: list) -> list[str | None]:
    """Ids as strings (Parquet and Arrow ids may be integers); None stays None."""
    return [None if v is None else v if isinstance(v, str) else str(v) for v in values]


def _row_problem(note_id, text, text_col: str) -> str | None:
    if note_id is None or note_id == "":
        return "the row has no id"
    if text is None:
        return f"no {text_col!r} value"
    if not isinstance(text, str):
        return f"{text_col!r} is not a string"
    if not text.strip():
        return "empty note (no text); nothing to synthesize"
    return None


def _parse_spans(value) -> list[Span]:
    rows = json.loads(value) if isinstance(value, str) else value
    return [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in rows]


def _failed(note_id: str | None, message: str) -> NoteResult:
    log.warning("note %s: %s", note_id, message)
    return NoteResult(note_id, "error", None, error=message)


# ---------------------------------------------------------------- results as columns and back

def result_schema():
    import pyarrow as pa

    return pa.schema([("id", pa.string()), ("status", pa.string()), ("text", pa.string()), ("error", pa.string()),
                      ("phi_spans", pa.int64()), ("words", pa.int64()), ("masked_words", pa.int64()),
                      ("attempts", pa.int64()), ("seconds", pa.float64()), ("risk", pa.float64()),
                      ("spans", pa.string()), ("manifest", pa.string())])


def result_row(res: NoteResult) -> dict:
    """A ``NoteResult`` as one row of ``RESULT_COLUMNS``."""
    row = res.manifest_row()
    spans = None
    if res.annotations is not None:
        spans = json.dumps([{"start": a.start, "end": a.end, "label": a.label} for a in res.annotations])
    return {"id": res.id, "status": res.status, "text": res.text if res.status == "written" else None,
            "error": res.error, "phi_spans": res.n_phi, "words": res.n_words, "masked_words": res.n_masked,
            "attempts": res.attempts, "seconds": float(res.seconds),
            "risk": float(res.report.risk) if res.report is not None else None,
            "spans": spans, "manifest": json.dumps(row, ensure_ascii=False, sort_keys=True)}


def result_table(results: list[NoteResult]):
    import pyarrow as pa

    rows = [result_row(r) for r in results]
    return pa.Table.from_pydict({c: [r[c] for r in rows] for c in RESULT_COLUMNS}, schema=result_schema())


@dataclass(frozen=True)
class RayNoteResult(NoteResult):
    """A result back from an actor: its manifest row exactly as the actor made it."""

    row: dict | None = None

    def manifest_row(self) -> dict:
        return dict(self.row or {})


def note_result(row: dict) -> NoteResult:
    """A row of ``RESULT_COLUMNS`` as the ``NoteResult`` the runner writes and records."""
    manifest = json.loads(row["manifest"])
    spans = None
    if row.get("spans") is not None:
        spans = tuple(_parse_spans(row["spans"]))
    return RayNoteResult(row["id"], row["status"], row["text"] if row["status"] == "written" else None,
                         error=row.get("error"), annotations=spans, row=manifest)


# ---------------------------------------------------------------- the library API

def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise EngineError(INSTALL_HINT) from None
    return ray


def default_num_actors(options: RayOptions, gpus_per_actor: float = 0) -> int:
    """One actor per ``cpus_per_actor`` CPUs of the cluster (per GPU when each actor takes one)."""
    resources = _ray().cluster_resources()
    if gpus_per_actor:
        return max(1, int(resources.get("GPU", 0) // gpus_per_actor))
    return max(1, int(resources.get("CPU", 1) // max(options.cpus_per_actor, 1e-9)))


def synthesize_dataset(ds, config: SynthConfig, options: RayOptions | None = None, *, id_column: str = "id",
                       text_column: str = "text", spans_column: str = "spans"):
    """Synthesize every row of a Ray ``Dataset`` (columns id and text; optional spans, JSON or
    a list of {start, end, label}) into a ``Dataset`` of ``RESULT_COLUMNS``, one row per input
    row, lazily (nothing runs until it is consumed).

    Same per-note function and results as ``notesynth synth``; resume and writing are the
    caller's (``synth --engine ray`` does both on the driver).  ``config.device == "cuda"``
    gives each actor one GPU.  Needs a connected Ray (``ray.init`` or ``connect``).
    """
    _ray()
    from ray.data import ActorPoolStrategy

    config = config.validate()
    options = options or RayOptions()
    gpus = 1 if config.device == "cuda" else 0
    actors = options.num_actors or default_num_actors(options, gpus)
    with warnings.catch_warnings():
        # max_task_retries has no named parameter in Ray 2.60 (the extra pins it) and passing it warns;
        # without it, a note that kills its actor (a native crash, the OOM killer) is retried forever
        warnings.simplefilter("ignore", DeprecationWarning)
        return ds.map_batches(
            NoteSynthesizer,
            fn_constructor_kwargs={"config": config, "threads": max(1, int(options.cpus_per_actor)),
                                   "id_column": id_column, "text_column": text_column,
                                   "spans_column": spans_column, "max_seconds_per_note": options.max_seconds_per_note},
            batch_size=max(1, options.batch_size or config.batch_size),
            batch_format="pyarrow",
            compute=ActorPoolStrategy(size=actors),
            num_cpus=options.cpus_per_actor,
            num_gpus=gpus or None,
            max_task_retries=2,
        )


def connect(options: RayOptions) -> bool:
    """Join the cluster at ``options.address``, or start a local one (loopback only, no
    dashboard, no usage stats).  True when this call started Ray (the caller shuts it down);
    False when this process was already connected."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not options.address or _is_loopback(options.address):
        # One machine, loopback only.  Ray's switch for single-machine use (named for Windows and
        # macOS, read when Ray is imported) makes the node address 127.0.0.1: every Ray server then
        # listens on loopback and Ray never looks up this machine's network address.
        if "ray" in sys.modules and not os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"):
            log.debug("Ray was imported before the engine: its local cluster may listen beyond loopback")
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = _ray()
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": True, "logging_level": logging.WARNING, "include_dashboard": False}
    try:
        if options.address:
            ray.init(address=options.address, **quiet)
        else:
            extra = {"_temp_dir": options.temp_dir} if options.temp_dir else {}
            ray.init(address="local", num_cpus=options.num_cpus, **quiet, **extra)
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; none carries note text
        where = options.address or "a local cluster"
        raise EngineError(f"could not start or join Ray ({where}): {type(exc).__name__}: {_first_line(exc)}") from None
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False       # the runner shows progress on the driver
    ctx.print_on_execution_start = False
    ctx.max_errored_blocks = -1            # a batch Ray gives up on is reported per note, not fatal
    return True


def _is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else address
    return host in ("127.0.0.1", "localhost", "::1")


def _first_line(exc: BaseException, limit: int = 500) -> str:
    """The first line of a Ray error, and its cause when Ray quotes one (an actor's creation error
    ends with the original exception's last line: a model that did not load says why)."""
    lines = [x.strip() for x in str(exc).strip().splitlines() if x.strip()]
    if not lines:
        return ""
    cause = next((x for x in reversed(lines[1:]) if re.match(r"^[\w.]*(Error|Exception)\b.*:", x)), None)
    return (lines[0][:limit] + (f"; cause: {cause[:limit]}" if cause else ""))


# ---------------------------------------------------------------- the engine for `synth`

class RayEngine(Engine):
    """``synth --engine ray``: the runner's notes go to a pool of Ray actors; results stream back."""

    def __init__(self, config: SynthConfig, options: RayOptions | None = None):
        self.config = config.validate()
        self.options = options or RayOptions()
        self.wave_size = self.options.window
        self.owns_cluster = connect(self.options)
        if not self.options.address and self.owns_cluster:
            self._check_fits()

    def _check_fits(self) -> None:
        """A local cluster can't grow: more actors than it has CPUs would wait forever."""
        cpus = _ray().cluster_resources().get("CPU", 0)
        wanted = (self.options.num_actors or 1) * self.options.cpus_per_actor
        if wanted > cpus:
            self.close()
            raise EngineError(f"{self.options.num_actors} actors of {self.options.cpus_per_actor:g} CPU need "
                              f"{wanted:g} CPUs; this machine's local cluster has {cpus:g}: lower --num-actors")

    def synthesize(self, notes: list[tuple[str, str]], annotations: dict) -> Iterator[NoteResult]:
        if not notes:
            return
        ray = _ray()
        bs = max(1, self.options.batch_size or self.config.batch_size)
        spans = {k: json.dumps([{"start": s.start, "end": s.end, "label": s.label} for s in v])
                 for k, v in (annotations or {}).items()}
        items = [{"id": note_id, "text": text, "spans": spans.get(note_id)} for note_id, text in notes]
        # one block per Ray batch, built here (from_items makes its blocks in this process)
        ds = ray.data.from_items(items, override_num_blocks=-(-len(items) // bs))
        out = synthesize_dataset(ds, self.config, self.options)
        pending = {note_id for note_id, _ in notes}
        started = last = time.monotonic()
        try:
            for batch in out.iter_batches(batch_size=None, batch_format="pyarrow"):
                for row in batch.to_pylist():
                    res = note_result(row)
                    if res.id in pending:
                        pending.discard(res.id)
                        yield res
                if self.options.progress and not sys.stderr.isatty() and time.monotonic() - last > 30:
                    done = len(notes) - len(pending)
                    log.info("ray: %d of %d notes done, %.2f notes/s", done, len(notes),
                             done / max(1e-9, time.monotonic() - started))
                    last = time.monotonic()
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - the Ray job failed; finished notes are already recorded
            raise EngineError(f"the Ray job failed ({type(exc).__name__}: {_first_line(exc)}); "
                              "finished notes are kept, re-run to resume") from None
        for note_id in sorted(pending):  # batches Ray gave up on (their actor kept dying)
            yield _failed(note_id, "its Ray task failed (the worker died); re-run to retry it")

    def close(self) -> None:
        if self.owns_cluster:
            self.owns_cluster = False
            _ray().shutdown()

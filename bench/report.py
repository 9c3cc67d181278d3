"""Turn a saved pytest-benchmark run into bench/results.md, bench/results.png
and the benchmark table of docs/performance.md (the block between its two
"bench/report.py" markers).

    pytest bench --benchmark-only --benchmark-json=bench/results.json
    python bench/report.py [bench/results.json]

The table gives ns per element (the median of each benchmark's rounds) per
(function, dtype, threads), one row per size, and gelu_fast's speed-up over
the baseline (SciPy, or the NumPy formula where SciPy has no such function)
and over PyTorch.  The plot has one log-log panel per (function, dtype,
threads), one line per implementation.  Everything is read from each
benchmark's extra_info and from the machine description bench/conftest.py
writes into the JSON, never from test names.
"""
import json
import sys
from pathlib import Path

import _bench

HERE = Path(__file__).parent
PAGE = HERE.parent / "docs" / "performance.md"
PAGE_BEGIN = "<!-- begin: written by bench/report.py -->"
PAGE_END = "<!-- end: written by bench/report.py -->"
# The table the page shows; results.md has them all.
PAGE_PANEL = ("gelu", "float32", 1)


def load(path):
    """(ns per element keyed by (function, dtype, threads, size, impl), the run's JSON)."""
    run = json.loads(Path(path).read_text())
    ns = {}
    for b in run["benchmarks"]:
        e = b["extra_info"]
        key = (e["function"], e["dtype"], e["threads"], e["size"], e["implementation"])
        ns[key] = b["stats"]["median"] / e["size"] * 1e9
    return ns, run


def panels(ns):
    """The (function, dtype, threads) panels present, in the suite's order."""
    seen = {}
    for function, dtype, threads, _, _ in ns:
        seen[(function, dtype, threads)] = None
    order = {f: i for i, f in enumerate(_bench.FUNCTIONS)}
    return sorted(seen, key=lambda p: (order[p[0]], p[1], p[2]))


def _title(function, dtype, threads):
    return f"{function} {dtype}, {threads} thread{'s' if threads > 1 else ''}"


def _ratio(numerator, denominator):
    if numerator is None or denominator is None:
        return "—"
    return f"{numerator / denominator:.2f}×"


def _run_line(run):
    options = run["benchmarks"][0]["options"]
    return (f"Run {run['datetime'][:16].replace('T', ' ')} UTC, commit {run['commit_info'].get('id', '?')[:7]}, "
            f"pytest-benchmark {run['version']} (min_rounds={options['min_rounds']}, "
            f"max_time={options['max_time']} s)")


def table(ns, function, dtype, threads):
    """Markdown rows for one panel: ns per element, then gelu_fast's speed-ups."""
    here = [k for k in ns if k[:3] == (function, dtype, threads)]
    sizes = sorted({k[3] for k in here})
    impls = [i for i in _bench.BUILDERS if any(k[4] == i for k in here)]
    baseline = _bench.BASELINE[function]
    lines = ["| elements | " + " | ".join(_bench.LABELS[i] for i in impls)
             + f" | speed-up vs {_bench.LABELS[baseline]} | speed-up vs PyTorch |",
             "|---:|" + "---:|" * (len(impls) + 2)]
    for n in sizes:
        t = {i: ns.get((function, dtype, threads, n, i)) for i in impls}
        cells = [f"{t[i]:.3g}" if t[i] is not None else "—" for i in impls]
        cells += [_ratio(t.get(baseline), t.get("gelu_fast")), _ratio(t.get("torch"), t.get("gelu_fast"))]
        lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
    return lines


def markdown(ns, run):
    machine = run["machine_info"].get("gelu_fast_bench")
    lines = ["# gelu_fast benchmarks", ""]
    if machine:
        lines += [f"Machine: {_bench.describe_machine(machine)}.", ""]
    lines += [
        f"{_run_line(run)}: ns per element, the median of each benchmark's rounds (contenders timed "
        "one after the other, not interleaved: `python bench/targets.py` measures the ratios to PyTorch, "
        "SciPy and np.copyto side by side). Speed-up = the other's time ÷ gelu_fast's time; \"—\": not installed, or no "
        "such function or dtype.",
        "",
        "Regenerate: `pytest bench --benchmark-only --benchmark-json=bench/results.json && "
        "python bench/report.py`.",
        "",
    ]
    lines += [f"- **{_bench.LABELS[k]}**: {d}" for k, d in _bench.DESCRIPTIONS.items()]
    for panel in panels(ns):
        lines += ["", f"## {_title(*panel)}", ""] + table(ns, *panel)
    return "\n".join(lines) + "\n"


def page_block(ns, run):
    """docs/performance.md's share: the machine, the run, one table, links to the rest."""
    machine = run["machine_info"].get("gelu_fast_bench")
    lines = [PAGE_BEGIN, ""]
    if machine:
        lines += [f"Machine: {_bench.describe_machine(machine)}.", ""]
    lines += [f"{_run_line(run)}. {_title(*PAGE_PANEL)}, ns per element (medians):", ""]
    lines += table(ns, *PAGE_PANEL)
    lines += ["", "Every function, dtype and thread count: [bench/results.md](../bench/results.md).", "",
              "![ns per element against size](../bench/results.png)", "", PAGE_END]
    return "\n".join(lines)


def update_page(block):
    text = PAGE.read_text()
    begin, end = text.find(PAGE_BEGIN), text.find(PAGE_END)
    if begin < 0 or end < 0:
        raise SystemExit(f"{PAGE} has no {PAGE_BEGIN!r} ... {PAGE_END!r} block")
    PAGE.write_text(text[:begin] + block + text[end + len(PAGE_END):])


def plot(ns, run, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ps = panels(ns)
    threads = sorted({p[2] for p in ps})
    cases = list(dict.fromkeys(p[:2] for p in ps))
    fig, axes = plt.subplots(len(cases), len(threads), figsize=(5.5 * len(threads), 3.4 * len(cases)),
                             squeeze=False, sharex=True)
    style = {i: dict(color=f"C{j}", marker="osD^v<>"[j]) for j, i in enumerate(_bench.BUILDERS)}
    for (function, dtype, nthreads), ax in ((p, axes[cases.index(p[:2])][threads.index(p[2])])
                                           for p in ps):
        for impl in _bench.BUILDERS:
            points = sorted((k[3], v) for k, v in ns.items()
                            if k[:3] == (function, dtype, nthreads) and k[4] == impl)
            if points:
                ax.plot(*zip(*points), label=_bench.LABELS[impl], linewidth=2.5 if impl == "gelu_fast" else 1.2,
                        **style[impl])
        ax.set(xscale="log", yscale="log", title=_title(function, dtype, nthreads),
               ylabel="ns per element")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("elements")
    machine = run["machine_info"].get("gelu_fast_bench")
    if machine:
        fig.suptitle(f"{machine['cpu']}, {machine['cores_usable']} cores, {', '.join(machine['isa'])}; "
                     f"gelu_fast simd={machine['gelu_fast']['simd']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main(argv):
    source = Path(argv[0]) if argv else HERE / "results.json"
    ns, run = load(source)
    (HERE / "results.md").write_text(markdown(ns, run))
    plot(ns, run, HERE / "results.png")
    update_page(page_block(ns, run))
    print(f"wrote {HERE / 'results.md'}, {HERE / 'results.png'} and the table in {PAGE} from {source}")


if __name__ == "__main__":
    main(sys.argv[1:])

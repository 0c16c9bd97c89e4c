"""The benchmarks' figures drawn as SVG (bench/figures/, linked from bench/README.md), with
matplotlib, a dependency of the benchmarks alone (`make bench` installs it). The same run's
numbers are in bench/results/."""

from pathlib import Path

FIGURES = Path(__file__).resolve().parent / "figures"


def pyplot():
    import matplotlib

    matplotlib.use("svg")  # no display; files only
    # The same numbers draw the same file: no date, ids from a fixed salt.
    matplotlib.rcParams.update({"svg.hashsalt": "bulletins", "svg.fonttype": "none", "font.size": 9})
    from matplotlib import pyplot

    return pyplot


def saved(figure, name):
    FIGURES.mkdir(exist_ok=True)
    path = FIGURES / f"{name}.svg"
    figure.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    figure.clf()
    print(f"figure: {path.relative_to(FIGURES.parent.parent)}")
    return path


def latency_by_archive(results):
    """search_latency.py: the p95 of a stored page, a page opened from search and a search,
    against the number of bulletins in the archive."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6, 3.6))
    sizes = [result["bulletins"] for result in results]
    for key, label in (("search", "search"), ("article ?hl=", "page opened from search (?hl=)"), ("article", "stored article page")):
        axes.plot(sizes, [result[key]["p95_ms"] for result in results], marker="o", label=label)
    axes.set_xscale("log")
    axes.set_xlabel("bulletins in the archive")
    axes.set_ylabel("p95 latency (ms)")
    axes.set_ylim(bottom=0)
    axes.set_title("Latency against archive size (one gunicorn worker, in process)")
    axes.grid(alpha=0.3)
    axes.legend()
    return saved(figure, "latency_by_archive")


def front_against_static(rates, targets, static, encodings):
    """cluster.py: each way of serving the article page, in requests per second as a share of
    nginx serving the same bytes as a static file, per encoding (medians of the rounds)."""
    import statistics

    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7, 3.6))
    served = [name for name in targets if name != static]
    width = 0.8 / len(served)
    for number, name in enumerate(served):
        shares = [statistics.median(rates[name, e]) / statistics.median(rates[static, e]) for e in encodings]
        positions = [index + number * width for index in range(len(encodings))]
        axes.bar(positions, shares, width, label=name)
    axes.axhline(1, color="black", linewidth=0.8)
    axes.set_xticks([index + width * (len(served) - 1) / 2 for index in range(len(encodings))], list(encodings))
    axes.set_ylabel("requests/s ÷ nginx static file")
    axes.set_title("The article page: the front cache against a static file")
    axes.legend(fontsize=7)
    axes.grid(axis="y", alpha=0.3)
    return saved(figure, "front_against_static")

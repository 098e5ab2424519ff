"""Scale benchmark: the whole study end to end on the demo population, 10,000 to 1,000,000 persons.

    python benchmarks/bench_scale.py                      # 10k, 30k, 100k, 300k, 1M
    python benchmarks/bench_scale.py --quick              # 10k and 30k
    python benchmarks/bench_scale.py --sizes 100000 1000000

Each size runs in its own subprocess (``--child N``), so its peak memory is its own: the parent
reads the child's resource usage with ``os.wait4`` (ru_maxrss; Linux: the largest resident set of
the child or of any process it waited for, e.g. joblib workers). The child also records the peak
resident set of the main process inside each stage (VmHWM, reset per stage through
/proc/self/clear_refs, or sampled when that is not allowed).

Study (per size): ``data: {demo: {n: N, seed: 1}}``, ``split: {plan: demo}``, synthesizer cart,
linkers exact (a cheap reference), probabilistic (Splink, DuckDB) and distance, the research
question ``np.log(wage) ~ isced + age + C(sex)``, target wage, privacy ``{secret: wage,
n_attacks: 500}``, one seed, report written. Documented sampling where a measure is quadratic:
``evaluate.privacy.max_rows`` (default 100,000 rows of train, control and J* each) and the
utility measures' own ``max_rows`` (utility_report's default, 50,000; ``--utility-max-rows``).

Stage times come from the study's own ``metrics["timings_seconds"]`` (summed over the baseline and
synthetic runs of that stage); "other" is validation, surrogate key, reconstruction, linkage
scoring and writing the results; "report" is report.html. Goals (issue 7): 1,000,000 persons in
30 minutes or less, peak memory 8 GB or less, on a 2-core 24 GB machine. The machine may be
shared with other jobs: times are noisy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
SIZES = [10_000, 30_000, 100_000, 300_000, 1_000_000]
QUICK = [10_000, 30_000]
GOAL_N, GOAL_SECONDS, GOAL_GB = 1_000_000, 30 * 60, 8.0
QUESTION = "np.log(wage) ~ isced + age + C(sex)"


def study_dict(n: int, privacy_max_rows: int | None, utility_max_rows: int | None, linkers: list[str]) -> dict[str, Any]:
    ev: dict[str, Any] = {"privacy": {"max_rows": privacy_max_rows} if privacy_max_rows else True,
                          "utility": {"max_rows": utility_max_rows} if utility_max_rows else True}
    return {
        "name": f"scale benchmark, {n:,} persons",
        "data": {"demo": {"n": n, "seed": 1}},
        "split": {"plan": "demo"},
        "synthesizers": ["cart"],
        "linkers": linkers,
        "questions": [QUESTION],
        "target": "wage",
        "privacy": {"secret": "wage", "n_attacks": 500},
        "evaluate": ev,
        "seeds": [1],
    }


# ---------------------------------------------------------------------------------------------
# child: one size, in its own process


def _read_status(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class StagePeaks:
    """Peak resident set of this process within each stage of the study (bytes); after each stage
    the stage times so far are written to ``progress`` so that a run killed for time or memory
    still tells where it was."""

    def __init__(self, progress: Path | None = None) -> None:
        self.peaks: dict[str, int] = {}
        self.current: str | None = None
        self.progress = progress
        self.timings: dict[str, float] = {}
        self.t0 = time.perf_counter()
        self.can_reset = self._reset()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    @staticmethod
    def _reset() -> bool:
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            return True
        except OSError:
            return False

    def _note(self, name: str, value: int | None) -> None:
        if value is not None:
            self.peaks[name] = max(self.peaks.get(name, 0), value)

    def _sample(self) -> None:  # fallback and cross-check: RSS every 0.2 s
        while not self._stop.wait(0.2):
            if self.current is not None:
                self._note(self.current, _read_status("VmRSS"))

    def _write(self) -> None:
        if self.progress is not None:
            self.progress.write_text(json.dumps({
                "current_stage": self.current, "elapsed_seconds": round(time.perf_counter() - self.t0, 1),
                "timings_seconds": {k: round(v, 3) for k, v in self.timings.items()},
                "stage_peak_rss_bytes": self.peaks}))

    def enter(self, name: str) -> None:
        self.current = name
        if self.can_reset:
            self._reset()
        self._write()

    def leave(self, name: str) -> None:
        self._note(name, _read_status("VmHWM") if self.can_reset else _read_status("VmRSS"))
        self.current = None
        self._write()

    def stop(self) -> None:
        self._stop.set()


def child(n: int, work: Path, out_json: Path, privacy_max_rows: int | None, utility_max_rows: int | None,
          linkers: list[str]) -> None:
    import synthlink.study as study_mod
    from synthlink.study import Study

    peaks = StagePeaks(out_json.with_suffix(".progress.json"))
    real_timed = study_mod._timed

    def timed(store: dict[str, float], name: str) -> Any:  # same timer, plus the stage's peak memory
        run = real_timed(store, name)
        peaks.timings = store

        def wrapped(fn: Any) -> Any:
            peaks.enter(name)
            try:
                return run(fn)
            finally:
                peaks.leave(name)
        return wrapped

    study_mod._timed = timed  # the study looks the timer up at call time
    cache_dir = work.with_name(work.name + "-cache")  # the study's working area, apart from its output
    for d in (work, cache_dir):
        if d.exists():
            shutil.rmtree(d)
    t0 = time.perf_counter()
    res = Study.from_dict(study_dict(n, privacy_max_rows, utility_max_rows, linkers), base_dir=work.parent).run(
        work, work_dir=cache_dir, progress=False)
    wall = time.perf_counter() - t0
    peaks.stop()
    m = res.metrics
    timings = dict(m["timings_seconds"])
    total = float(m["total_seconds"])
    # task seconds of the parallel evaluation queue overlap its wall time: not part of the wall sum
    timings["other"] = round(max(0.0, total - sum(v for k, v in timings.items() if "task seconds" not in k)), 3)
    timings["report"] = round(wall - total, 3)
    seed = m["seeds"][0]
    errors: list[str] = []
    for entry in seed["baseline"] + seed["synthetic"]:
        label = f"{entry.get('synthesizer', 'original')} x {entry['linker']}"
        if entry.get("status") != "ok":
            errors.append(f"{label}: {entry.get('status')}")
        for sec in ("utility", "privacy"):
            val = entry.get(sec)
            if isinstance(val, dict) and "error" in val:
                errors.append(f"{label} {sec}: {str(val['error'])[:200]}")
            elif isinstance(val, dict) and val.get("errors"):
                errors += [f"{label} {sec}: {str(e)[:200]}" for e in val["errors"]]
    if isinstance(seed.get("influence"), dict) and "error" in seed["influence"]:
        errors.append(f"influence: {str(seed['influence']['error'])[:200]}")
    quality = {e["linker"]: e["quality"].get("accuracy") for e in seed["baseline"] if e.get("status") == "ok"}
    out = {
        "persons": n, "timings_seconds": timings, "total_seconds": total, "wall_seconds": round(wall, 3),
        "parts": seed["parts"], "true_pairs": seed["true_pairs"],
        "stage_peak_rss_bytes": peaks.peaks, "stage_peak_method": "VmHWM" if peaks.can_reset else "VmRSS sampled",
        # clear_refs also resets the kernel's own peak, so the process peak is the largest stage peak
        "self_maxrss_bytes": max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, *peaks.peaks.values()]),
        "baseline_accuracy": quality, "errors": errors, "linkers": linkers,
    }
    out_json.write_text(json.dumps(out, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(cache_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# parent: one subprocess per size, table, scaling line


def run_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS / f"scale-{n}.child.json"
    tmp.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--child", str(n), "--child-json", str(tmp),
           "--privacy-max-rows", str(args.privacy_max_rows), "--utility-max-rows", str(args.utility_max_rows),
           "--linkers", *args.linkers]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = RESULTS / f"scale-{n}.log"
    print(f"  running {n:,} persons (log: {log}) ...", flush=True)
    t0 = time.perf_counter()
    progress = tmp.with_suffix(".progress.json")
    progress.unlink(missing_ok=True)
    killed = None
    tree_peak = 0
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        while True:  # watchdog: the machine is shared, a run past the limits is stopped, not left to swap
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss = _proc_rss(proc.pid)
            tree_peak = max(tree_peak, sum(_proc_rss(p) for p in _descendants(proc.pid)))
            if killed is None and args.max_gb and rss > args.max_gb * 1e9:
                killed = f"stopped: resident memory {rss / 1e9:.1f} GB above --max-gb {args.max_gb}"
            elif killed is None and args.max_minutes and time.perf_counter() - t0 > args.max_minutes * 60:
                killed = f"stopped: running longer than --max-minutes {args.max_minutes}"
            if killed and proc.returncode is None:
                proc.terminate()
                proc.returncode = -15
            time.sleep(1.0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    rec: dict[str, Any] = {"persons": n, "returncode": proc.returncode, "process_wall_seconds": round(wall, 1),
                           "peak_rss_bytes": ru.ru_maxrss * 1024, "peak_tree_rss_bytes": tree_peak,
                           "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 1)}
    if proc.returncode == 0 and tmp.exists():
        rec.update(json.loads(tmp.read_text()))
        tmp.unlink()
        # the per-stage VmHWM resets also reset ru_maxrss: the peak is the larger of the two readings
        rec["peak_rss_bytes"] = max(rec["peak_rss_bytes"], rec["self_maxrss_bytes"])
    else:
        rec["failed"] = (killed + "\n" if killed else "") + log.read_text()[-3000:]
        if progress.exists():
            rec["partial"] = json.loads(progress.read_text())
            rec["peak_rss_bytes"] = max([rec["peak_rss_bytes"], *rec["partial"]["stage_peak_rss_bytes"].values()])
    progress.unlink(missing_ok=True)
    return rec


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (evaluation workers, DuckDB has none)."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def _proc_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _fmt_t(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s:.1f}" if s < 100 else f"{s:.0f}"


def print_table(recs: list[dict[str, Any]]) -> None:
    stages: list[str] = []
    for r in recs:
        for k in r.get("timings_seconds", {}):
            if k not in stages:
                stages.append(k)
    order = ["data", "split", "influence", "synth:cart", "link:exact", "link:probabilistic", "link:distance",
             "evaluation (wall)", "utility (task seconds)", "privacy (task seconds)", "utility", "privacy", "other", "report"]
    extra = [s for s in stages if s not in order]  # e.g. further linker labels: beside the other links
    order = [*order[:7], *extra, *order[7:]]
    stages = [s for s in order if s in stages]
    head = ["persons", *stages, "total s", "peak GB", "all procs GB", "cpu s"]
    rows = []
    for r in recs:
        t = r.get("timings_seconds", {})
        rows.append([f"{r['persons']:,}" + ("" if r.get("linkers", ["probabilistic"]).count("probabilistic") else "*"), *[_fmt_t(t.get(s)) for s in stages],
                     _fmt_t(r.get("total_seconds")) if "total_seconds" in r else f"FAILED rc={r['returncode']}",
                     f"{r['peak_rss_bytes'] / 1e9:.2f}", f"{r.get('peak_tree_rss_bytes', 0) / 1e9:.2f}", _fmt_t(r.get("cpu_seconds"))])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("\nstage times in seconds (from the study's metrics timings; 'task seconds' are summed over the parallel "
          "evaluation workers, inside 'evaluation (wall)'); peak GB: largest single process (ru_maxrss); all procs GB: "
          "largest sum of resident memory over the run's process tree (sampled each second)")
    print("  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))

    if any("probabilistic" not in r.get("linkers", ["probabilistic"]) for r in recs):
        print("  * without the probabilistic linker")
    print("\npeak resident memory of the main process inside each stage (GB)")
    mem_stages = [s for s in stages if s not in ("other", "report") and "task seconds" not in s and "(wall)" not in s]
    head2 = ["persons", *mem_stages]
    rows2 = [[f"{r['persons']:,}", *[f"{r.get('stage_peak_rss_bytes', r.get('partial', {}).get('stage_peak_rss_bytes', {})).get(s, float('nan')) / 1e9:.2f}"
                                     for s in mem_stages]]
             for r in recs]
    widths2 = [max(len(h), *(len(row[i]) for row in rows2)) for i, h in enumerate(head2)]
    print("  ".join(h.rjust(w) for h, w in zip(head2, widths2, strict=True)))
    for row in rows2:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths2, strict=True)))

    ok = [r for r in recs if "total_seconds" in r]
    if len(ok) >= 2:
        print("\nscaling: time ratio per 10x persons (log-log slope between neighbouring sizes; 1 = linear)")
        for a, b in zip(ok, ok[1:], strict=False):
            span = math.log10(b["persons"] / a["persons"])
            slope = math.log10(max(b["total_seconds"], 1e-9) / max(a["total_seconds"], 1e-9)) / span
            per_stage = []
            for s in stages:
                ta, tb = a["timings_seconds"].get(s), b["timings_seconds"].get(s)
                if ta and tb and ta > 0.5:
                    per_stage.append(f"{s} x{(tb / ta) ** (1 / span):.1f}")
            same = a.get("linkers") == b.get("linkers")
            total = f"total x{10 ** slope:.1f} per 10x persons (slope {slope:.2f})" if same else "total not compared (different linkers)"
            print(f"  {a['persons']:>9,} -> {b['persons']:>9,}: {total}; {', '.join(per_stage)}")
    big = max(ok, key=lambda r: r["persons"], default=None)
    print(f"\ngoal: {GOAL_N:,} persons in <= {GOAL_SECONDS // 60} min with peak <= {GOAL_GB:.0f} GB (2 cores, 24 GB)")
    if big is not None:
        # the memory goal is for the machine: the larger of the biggest process and the process-tree sum
        mins, gb = big["total_seconds"] / 60, max(big["peak_rss_bytes"], big.get("peak_tree_rss_bytes", 0)) / 1e9
        verdict = ("MET" if mins <= 30 and gb <= GOAL_GB else "NOT MET") if big["persons"] >= GOAL_N else "not measured at 1M"
        missing = [lk for lk in ("probabilistic", "distance") if lk not in big.get("linkers", [])]
        if missing and big["persons"] >= GOAL_N:
            verdict += f" (without {', '.join(missing)}: not the goal's configuration)"
        print(f"  largest measured: {big['persons']:,} persons, {mins:.1f} min, {gb:.2f} GB -> {verdict}")
        if big["persons"] < GOAL_N and len(ok) >= 2:
            a, b = ok[-2], ok[-1]
            slope = math.log10(b["total_seconds"] / a["total_seconds"]) / math.log10(b["persons"] / a["persons"])
            est = b["total_seconds"] * (GOAL_N / b["persons"]) ** slope
            mslope = math.log10(b["peak_rss_bytes"] / a["peak_rss_bytes"]) / math.log10(b["persons"] / a["persons"])
            mest = b["peak_rss_bytes"] * (GOAL_N / b["persons"]) ** mslope / 1e9
            print(f"  extrapolated to {GOAL_N:,} from the last two sizes: ~{est / 60:.0f} min, ~{mest:.1f} GB")
    for r in recs:
        for e in r.get("errors", []):
            print(f"  ! {r['persons']:,}: {e}")
        if "failed" in r:
            print(f"  ! {r['persons']:,} failed (rc {r['returncode']}) after {r['process_wall_seconds']:.0f} s, "
                  f"peak {r['peak_rss_bytes'] / 1e9:.1f} GB:\n{r['failed']}")
            part = r.get("partial")
            if part:
                print(f"    it was in stage '{part['current_stage']}' after {part['elapsed_seconds']:.0f} s; finished stages: "
                      + ", ".join(f"{k} {v:.0f} s" for k, v in part["timings_seconds"].items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=None, help="persons per run (default 10k..1M)")
    ap.add_argument("--quick", action="store_true", help="10,000 and 30,000 persons")
    ap.add_argument("--privacy-max-rows", type=int, default=100_000, help="evaluate.privacy.max_rows (0 = no sampling)")
    ap.add_argument("--utility-max-rows", type=int, default=0, help="evaluate.utility.max_rows (0 = utility_report's default, 50,000)")
    ap.add_argument("--linkers", nargs="+", default=["exact", "probabilistic", "distance"])
    ap.add_argument("--max-gb", type=float, default=14.0, help="stop a size whose main process exceeds this resident memory (0 = no limit)")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop a size running longer than this (0 = no limit)")
    ap.add_argument("--json", type=Path, default=RESULTS / "bench_scale.json")
    ap.add_argument("--show", type=Path, nargs="+", default=None, help="print the table of saved result JSONs (merged by size) and exit")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-json", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, RESULTS / f"scale-work-{args.child}", args.child_json, args.privacy_max_rows or None,
              args.utility_max_rows or None, args.linkers)
        return
    if args.show:
        merged: dict[int, dict[str, Any]] = {}
        for f in args.show:
            for r in json.loads(f.read_text())["sizes"]:
                merged[r["persons"]] = r
        print_table([merged[n] for n in sorted(merged)])
        return
    sizes = QUICK if args.quick else (args.sizes or SIZES)
    print(f"scale benchmark: sizes {', '.join(f'{n:,}' for n in sizes)}; linkers {', '.join(args.linkers)}; "
          f"privacy max_rows {args.privacy_max_rows or 'none'}, utility max_rows {args.utility_max_rows or 'default (50,000)'}; "
          f"{os.cpu_count()} cores (shared machine: times are noisy)", flush=True)
    recs: list[dict[str, Any]] = []
    for n in sizes:
        rec = run_size(n, args)
        recs.append(rec)
        print(f"  {n:,}: " + (f"{rec['total_seconds']:.1f} s, peak {rec['peak_rss_bytes'] / 1e9:.2f} GB"
                              if "total_seconds" in rec else f"FAILED (rc {rec['returncode']})"), flush=True)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"sizes": recs, "goal": {"persons": GOAL_N, "seconds": GOAL_SECONDS, "peak_gb": GOAL_GB},
                                         "cpu_count": os.cpu_count(), "python": sys.version.split()[0]}, indent=1))
    print_table(recs)
    print(f"\nresults: {args.json}")


if __name__ == "__main__":
    main()

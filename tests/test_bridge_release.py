"""The bridge release (issue 16 §1, §6): noise scale against the stated budget, consistency,
every declared cell, the command line. Expected values are worked out by hand from the
definitions (in the comments)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthlink.bridge import BridgeRelease, BridgeSpec, release
from synthlink.bridge.consistency import largest_remainder, make_consistent, project
from synthlink.bridge.release import calibrate, counts, measure
from synthlink.cli import app
from synthlink.errors import InputError

CATS = {"a": ("x", "y", "z"), "b": ("u", "v"), "c": ("p", "q")}


def table(n: int = 60) -> pd.DataFrame:
    i = np.arange(n)
    return pd.DataFrame({"a": np.array(["x", "y", "z"], dtype=object)[i % 3],
                         "b": np.array(["u", "v"], dtype=object)[(i // 3) % 2],
                         "c": np.array(["p", "q"], dtype=object)[(i // 2) % 2]})


def spec(marginals=(("a", "b"), ("a", "c")), **kw) -> BridgeSpec:
    return BridgeSpec(tuple(marginals), categories=CATS, **kw)


def pmf_moments(pmf, lim: int) -> tuple[float, float]:
    """Variance and fourth central moment of a symmetric integer distribution, by summing its pmf."""
    x = np.arange(-lim, lim + 1, dtype=float)
    p = pmf(x)
    p = p / p.sum()
    return float((p * x ** 2).sum()), float((p * x ** 4).sum())


def test_scale_is_k_over_epsilon_and_opendp_spends_the_budget():
    # k = 3 marginals, epsilon = 1.5, L1 sensitivity 1 each under add/remove: b = 3 / 1.5 = 2,
    # epsilon / k = 0.5 per marginal, 1.5 in all
    b = calibrate(spec((("a", "b"), ("a", "c"), ("b", "c")), epsilon=1.5))
    assert b["scale"] == 2.0 and b["per_marginal"] == {"epsilon": 0.5}
    assert b["spent"]["epsilon"] == pytest.approx(1.5, rel=1e-9)
    assert b["neighbouring"].startswith("add or remove one record")
    assert b["sensitivity"]["per_marginal_l1"] == 1 and b["sensitivity"]["release_l1"] == 3


def test_laplace_noise_variance_matches_the_stated_scale():
    s = spec(epsilon=1.0)
    budget = calibrate(s)
    assert budget["scale"] == 2.0  # k = 2, epsilon = 1
    # discrete Laplace of scale b = 2: var = 2 e^(-1/2) / (1 - e^(-1/2))^2
    # = 2 * 0.60653 / 0.39347^2 = 1.21306 / 0.154818 = 7.835
    var = 2 * math.exp(-0.5) / (1 - math.exp(-0.5)) ** 2
    assert var == pytest.approx(7.835, abs=1e-3)
    _, mu4 = pmf_moments(lambda x: np.exp(-np.abs(x) / 2.0), 200)
    true = counts(table(), s)
    noise = np.concatenate([(measure(true, s, budget, insecure_reproducible_noise=i)[m] - true[m]).ravel()
                            for i in range(400) for m in s.marginals])
    n = noise.size  # 400 releases x 12 cells
    se = math.sqrt((mu4 - var ** 2) / n)  # standard error of the sample variance (mean known: 0)
    assert abs(float((noise.astype(float) ** 2).mean()) - var) < 4 * se
    assert abs(float(noise.mean())) < 4 * math.sqrt(var / n)
    # the wrong scale (b = 1 / epsilon, the split forgotten) has var 2 e^-1 / (1 - e^-1)^2 = 1.841
    assert abs(float((noise.astype(float) ** 2).mean()) - 1.841) > 20 * se


def test_gaussian_noise_variance_and_budget():
    s = spec(mechanism="gaussian", delta=1e-6, epsilon=1.0)
    budget = calibrate(s)
    # the classic conversion rho = (sqrt(log(1/delta) + eps) - sqrt(log(1/delta)))^2
    # = (sqrt(14.8155) - sqrt(13.8155))^2 = (3.84909 - 3.71692)^2 = 0.01747; OpenDP's is tighter
    assert budget["rho"] >= 0.01747
    assert 0.999 <= budget["spent"]["epsilon"] <= 1.0 and budget["spent"]["rho"] == pytest.approx(budget["rho"])
    sigma = budget["scale"]
    assert sigma == pytest.approx(math.sqrt(2 / (2 * budget["rho"])))  # k = 2, rho / 2 each, L2 sensitivity 1
    var, mu4 = pmf_moments(lambda x: np.exp(-x ** 2 / (2 * sigma ** 2)), int(40 * sigma))
    true = counts(table(), s)
    noise = np.concatenate([(measure(true, s, budget, insecure_reproducible_noise=i)[m] - true[m]).ravel()
                            for i in range(300) for m in s.marginals]).astype(float)
    se = math.sqrt((mu4 - var ** 2) / noise.size)
    assert abs(float((noise ** 2).mean()) - var) < 4 * se


def test_reproducible_noise_is_flagged_and_repeats():
    r1 = release(table(), spec(), insecure_reproducible_noise=3)
    r2 = release(table(), spec(), insecure_reproducible_noise=3)
    assert r1.budget["reproducible_noise"] is True and "NOT private" in r1.budget["noise"]
    assert all(r1.tables[m]["count"].tolist() == r2.tables[m]["count"].tolist() for m in r1.tables)
    assert release(table(), spec()).budget["reproducible_noise"] is False


def test_common_total_by_hand():
    # sums 10 (4 cells) and 16 (6 cells): (10/4 + 16/6) / (1/4 + 1/6) = 5.1667 / 0.41667 = 12.4 -> 12
    noisy = {("a", "b"): np.array([[1, 2], [3, 4]]), ("c", "d"): np.array([[1, 2, 3], [4, 5, 1]])}
    out, total = make_consistent(noisy)
    assert total == 12 and all(int(t.sum()) == 12 for t in out.values())


def test_largest_remainder_by_hand():
    # floors 0, 1, 2 (sum 3); one more to the largest remainder, 0.5 (tie: first)
    assert largest_remainder(np.array([0.5, 1.5, 2.0]), 4).tolist() == [1, 1, 2]
    # clipped at 0: (0, 0) sums to 0, so uniform: 1, 1
    assert largest_remainder(np.array([-3.0, 0.0]), 2).tolist() == [1, 1]


@pytest.mark.parametrize("marginals", [(("a", "b"), ("a", "c")),  # star: share a
                                       (("a", "b"), ("a", "c"), ("b", "c"))])  # different overlaps
def test_consistency_keeps_totals_and_shared_margins(marginals):
    for seed in range(5):
        r = release(table(), spec(marginals), insecure_reproducible_noise=seed)
        arrays = {}
        for m in marginals:
            t = r.table(m)
            assert pd.api.types.is_integer_dtype(t["count"]) and (t["count"] >= 0).all()
            assert int(t["count"].sum()) == r.n_records
            arrays[m] = t["count"].to_numpy().reshape([len(CATS[c]) for c in m])
        for i, m in enumerate(marginals):
            for m2 in marginals[i + 1:]:
                shared = tuple(c for c in m if c in m2)
                assert project(arrays[m], m, shared).tolist() == project(arrays[m2], m2, shared).tolist()


def test_every_declared_cell_is_released_zeros_included():
    s = BridgeSpec((("a", "w"),), bins={"w": (0, 10, 20, 30)}, categories={"a": ("x", "y", "never")},
                   missing=("w",))
    df = pd.DataFrame({"a": ["x", "y"] * 10, "w": [5.0, 15.0, np.nan, 30.0] * 5})
    t = release(df, s, insecure_reproducible_noise=0).table(("a", "w"))
    # 3 categories x (3 bins + missing) = 12 cells, in the declared order
    assert len(t) == 12 and t["a"].tolist()[:4] == ["x"] * 4
    assert t["w"].tolist()[:4] == ["[0, 10)", "[10, 20)", "[20, 30]", "(missing)"]


def test_counts_by_hand_and_release_file_holds_counts_only():
    s = spec((("a", "b"),))
    c = counts(table(), s)[("a", "b")]
    assert c.tolist() == [[10, 10], [10, 10], [10, 10]]  # 60 rows, a cycles by 3, b by 6
    d = release(table(), s).to_dict()
    assert set(d) == {"kind", "version", "spec", "budget", "post_processing", "n_records", "tables"}
    assert set(d["tables"][0]) == {"columns", "cells", "counts"} and len(d["tables"][0]["counts"]) == 6
    back = BridgeRelease.from_dict(json.loads(json.dumps(d)))
    assert back.table(("a", "b"))["count"].tolist() == d["tables"][0]["counts"]


def test_bad_tables_are_refused():
    with pytest.raises(InputError, match="'c' of the bridge spec is missing"):
        release(table().drop(columns="c"), spec())
    s = BridgeSpec((("a", "w"),), bins={"w": (0, 10)}, categories={"a": CATS["a"]})
    with pytest.raises(InputError, match="outside the bridge's declared bins"):
        release(pd.DataFrame({"a": ["x", "y"], "w": [5.0, 11.0]}), s)


# -- command line -------------------------------------------------------------------------------

@pytest.fixture()
def files(tmp_path):
    df = table(40).assign(wage=np.linspace(0, 90, 40))
    df.loc[3, "wage"] = np.nan
    joint = tmp_path / "joint.csv"
    df.to_csv(joint, index=False)
    good = {"marginals": [["a", "wage"], ["a", "b"]], "categories": {"a": list(CATS["a"]), "b": list(CATS["b"])},
            "bins": {"wage": [0, 50, 100]}, "missing": ["wage"], "epsilon": 1.0}
    return tmp_path, joint, good


def run(tmp_path, joint, spec_dict, *extra):
    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(spec_dict), encoding="utf-8")
    out = tmp_path / "release.json"
    return CliRunner().invoke(app, ["bridge", "release", str(joint), "--spec", str(p), "--out", str(out), *extra]), out


def test_cli_writes_a_release(files):
    tmp_path, joint, good = files
    r, out = run(tmp_path, joint, good)
    assert r.exit_code == 0, r.output
    rel = BridgeRelease.load(out)
    assert rel.budget["scale"] == 2.0 and len(rel.table(("a", "wage"))) == 9  # 3 x (2 bins + missing)
    r, _ = run(tmp_path, joint, good)
    assert r.exit_code == 2 and "--overwrite" in r.output
    r, _ = run(tmp_path, joint, good, "--overwrite")
    assert r.exit_code == 0


@pytest.mark.parametrize("change, says", [
    ({"epsilon": 0}, "epsilon must be a positive number"),
    ({"epsilon": None}, "'epsilon' is required"),
    ({"colour": "red"}, "unknown key"),
    ({"marginals": [["a", "nope"]], "categories": {"a": ["x", "y", "z"], "nope": ["1"]}}, "'nope'"),
    ({"bins": {"wage": [0, 50]}}, "outside the bridge's declared bins"),
    ({"marginals": [["a", "rid"]], "categories": {"a": ["x", "y", "z"], "rid": [f"r{i}" for i in range(40)]}},
     "identifier"),
])
def test_cli_bad_input_exits_2_with_one_line_and_no_file(files, change, says):
    tmp_path, joint, good = files
    df = pd.read_csv(joint)
    df["rid"] = [f"r{i}" for i in range(len(df))]
    df.to_csv(joint, index=False)
    bad = {k: v for k, v in {**good, **change}.items() if v is not None}
    r, out = run(tmp_path, joint, bad)
    assert r.exit_code == 2, r.output
    assert says in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert not out.exists() and not list(tmp_path.glob(".release.json.*"))

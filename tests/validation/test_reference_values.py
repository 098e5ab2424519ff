"""Reference values worked out by hand from the published definitions, on tables small enough to
check on paper: synthpop's identity and attribute disclosure measures (repU, DiSCO, DiSDiO and
their companions, synthpop 1.9-2 ``R/disclosure.R``), the DCR share closer to train with ties
(its null expectation and split variance), and the distance-based membership AUC."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from synthlink.evaluate.privacy import dcr_measures
from synthlink.evaluate.privacy.dcr import normalised_share
from synthlink.evaluate.privacy.disclosure import (
    attribute_disclosure,
    disclosure_measures,
    identity_disclosure,
)
from synthlink.evaluate.privacy.membership import membership_inference

# -- synthpop disclosure ----------------------------------------------------------------------------
#
# keys (k1, k2), target t; a missing value is a level of its own (synthpop's defaults
# usekeysNA = usetargetNA = TRUE turn NA into "Missing").
#
# original (N_d = 8)                      synthetic (N_s = 6)
#   key group   targets      d_q          key group   targets   s_q
#   (a, 1)      x, x         2            (a, 1)      x         1
#   (a, 2)      y, z         2            (a, 2)      z, z      2
#   (b, 1)      x            1            (b, NA)     NA        1
#   (b, NA)     y, NA        2            (c, 3)      y         1
#   (c, 3)      z            1            (d, 4)      x         1
ORIG = pd.DataFrame({
    "k1": ["a", "a", "a", "a", "b", "b", "b", "c"],
    "k2": [1.0, 1.0, 2.0, 2.0, 1.0, np.nan, np.nan, 3.0],
    "t": ["x", "x", "y", "z", "x", "y", None, "z"],
})
SYN = pd.DataFrame({
    "k1": ["a", "a", "a", "b", "c", "d"],
    "k2": [1.0, 2.0, 2.0, np.nan, 3.0, 4.0],
    "t": ["x", "z", "z", None, "y", "x"],
})
KEYS = ["k1", "k2"]


def test_identity_disclosure_by_hand():
    r = identity_disclosure(ORIG, SYN, KEYS)
    # UiO: original uniques (b,1) and (c,3) -> 2/8
    assert r["UiO"] == pytest.approx(2 / 8)
    # UiS: synthetic uniques (a,1), (b,NA), (c,3), (d,4) -> 4/6
    assert r["UiS"] == pytest.approx(4 / 6)
    # UiOiS: original uniques whose keys appear in the synthetic data: (c,3) -> 1/8
    assert r["UiOiS"] == pytest.approx(1 / 8)
    # repU (tab_ksd1: d_q = 1 and s_q = 1): (c,3) only; (b,1) is not in the synthetic data -> 1/8
    assert r["repU"] == pytest.approx(1 / 8)


def test_attribute_disclosure_by_hand():
    r = attribute_disclosure(ORIG, SYN, KEYS, "t")
    # Dorig (DiO): original records in single-target original groups: (a,1) 2, (b,1) 1, (c,3) 1 -> 4/8
    assert r["DiO"] == pytest.approx(4 / 8)
    # Dsyn: synthetic records in single-target synthetic groups: every synthetic group -> 6/6
    assert r["Dsyn"] == pytest.approx(1.0)
    # iS: original records whose key group is in the synthetic data: all but (b,1) -> 7/8
    assert r["iS"] == pytest.approx(7 / 8)
    # DiS: ... and that synthetic group has one target value: every synthetic group does -> 7/8
    assert r["DiS"] == pytest.approx(7 / 8)
    # DiSCO (tab_DiSCO = d_tq where ps_tq = 1):
    #   (a,1): ps(x) = 1, d_x = 2 -> 2;  (a,2): ps(z) = 1, d_z = 1 -> 1;
    #   (b,NA): ps(NA) = 1, d_NA = 1 -> 1;  (c,3): ps(y) = 1, d_y = 0 -> 0.  DiSCO = 4/8
    assert r["DiSCO"] == pytest.approx(4 / 8)
    # DiSDiO (also pd_tq = 1): only (a,1) (pd(x) = 1) -> 2/8; (a,2) and (b,NA) hold two values
    assert r["DiSDiO"] == pytest.approx(2 / 8)
    assert r["DiSDiO"] <= r["DiSCO"] <= r["DiS"] <= r["iS"]


def test_disclosure_measures_report_both_names_and_the_control_reference():
    # the control set: one record per original key group, with the original's majority value
    control = pd.DataFrame({"k1": ["a", "b"], "k2": [1.0, 1.0], "t": ["y", "x"]})
    r = disclosure_measures(ORIG, control, SYN, KEYS, ["t"])
    t = r["by_target"]["t"]
    assert t["DiSCO"] == pytest.approx(4 / 8) and t["DiSDiO"] == pytest.approx(2 / 8)
    # control in place of the synthetic data: (a,1) -> y: no original y there -> 0;
    # (b,1) -> x: 1 original x record, and (b,1) has only x in the original -> DiSCO = DiSDiO = 1/8
    assert t["DiSCO_control"] == pytest.approx(1 / 8) and t["DiSDiO_control"] == pytest.approx(1 / 8)
    assert r["DiSCO_max"] == pytest.approx(4 / 8) and r["DiSCO_max_target"] == "t"
    assert r["DiSDiO_max"] == pytest.approx(2 / 8) and r["DiSDiO_max_control"] == pytest.approx(1 / 8)
    assert r["repU"] == pytest.approx(1 / 8)
    # control: (a,1) and (b,1) each once; (b,1) is an original unique -> repU_control = 1/8
    assert r["repU_control"] == pytest.approx(1 / 8)


# -- DCR: share closer to train with ties -------------------------------------------------------------
#
# score of a synthetic row = m_t / (m_t + m_c), the train share among its nearest real records
# (m_t train and m_c control records at the smallest distance over both); raw share p = mean score;
# normalised share = odds(p) / (n_train / n_control) mapped back to a probability; risk = 2 share - 1.


def test_share_closer_to_train_counts_the_tied_records():
    train = pd.DataFrame({"c": ["a", "a", "a", "b"]})
    control = pd.DataFrame({"c": ["a"]})
    syn = pd.DataFrame({"c": ["a", "b", "c"]})
    r = dcr_measures(train, control, syn, ["c"], kinds={"c": "categorical"})
    # s1 = a: 3 train and 1 control copies at distance 0 -> 3/4
    # s2 = b: its only copy is in train -> 1
    # s3 = c: every real record at distance 1 (4 train, 1 control) -> 4/5
    # p = (0.75 + 1 + 0.8) / 3 = 0.85  (ties counted 1/2 gave (0.5 + 1 + 0.5) / 3 = 2/3)
    assert r["share_closer_to_train_raw"] == pytest.approx(0.85)
    # null odds 4/1; odds(0.85) = 17/3 -> q = 17/12 -> share = 17/29; risk = 2 * 17/29 - 1 = 5/29
    assert r["share_closer_to_train_null"] == pytest.approx(0.8)
    assert r["share_closer_to_train"] == pytest.approx(17 / 29)
    assert r["risk"] == pytest.approx(5 / 29)
    assert r["identical_match_share"] == pytest.approx(2 / 3)  # a and b have train copies
    assert r["identical_match_share_control"] == pytest.approx(1 / 3)  # only a has a control copy
    # split standard error: weights w_r (each synthetic row's 1/3 spread evenly over its nearest):
    # train a's 1/12 + 1/15 = 0.15 each (x3), train b 1/3 + 1/15 = 0.4, control a 0.15;
    # Var = pi (1 - pi) N / (N - 1) sum (w - 1/N)^2 = 0.16 * 5/4 * (4 * 0.05^2 + 0.2^2) = 0.01
    assert r["share_closer_to_train_se_split"] == pytest.approx(0.1)


def test_share_closer_to_train_ties_at_a_positive_distance_on_mixed_columns():
    train = pd.DataFrame({"x": [0.0, 0.0, 10.0], "c": ["a", "a", "b"]})
    control = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    syn = pd.DataFrame({"x": [0.0, 5.0, 5.0], "c": ["a", "b", "a"]})
    r = dcr_measures(train, control, syn, ["x", "c"], kinds={"x": "numeric", "c": "categorical"})
    # distance = |dx| / 10 (range of x over train + control) + [c differs]
    # s1 (0,a): copies, 2 in train, 1 in control -> 2/3
    # s2 (5,b): (10,b) at 0.5 in train (1) and in control (1); (0,a) at 1.5 -> 1/2
    # s3 (5,a): (0,a) at 0.5, 2 in train and 1 in control; (10,b) at 1.5 -> 2/3
    # p = (2/3 + 1/2 + 2/3) / 3 = 11/18
    assert r["share_closer_to_train_raw"] == pytest.approx(11 / 18)
    # null odds 3/2; odds(11/18) = 11/7 -> q = 22/21 -> share = 22/43; risk = 1/43
    # (ties counted 1/2: p = 1/2, share 0.4, risk 0)
    assert r["share_closer_to_train"] == pytest.approx(22 / 43)
    assert r["risk"] == pytest.approx(1 / 43)
    # DCR per column: s1 0, s2 0.5 / 2, s3 0.5 / 2
    assert r["dcr_train"]["mean"] == pytest.approx((0 + 0.25 + 0.25) / 3)


def test_share_closer_to_train_has_the_exact_null_expectation_over_all_splits():
    # real records a, a, a, b, b split in every way into 3 train + 2 control (10 splits);
    # synthetic rows a, b, c fixed. With j_a a's in train (hypergeometric: P(3) = 1/10,
    # P(2) = 6/10, P(1) = 3/10):
    #   a: copies j_a train, 3 - j_a control -> j_a / 3;   b: (3 - j_a) / 2;
    #   c: all five at distance 1 -> 3/5.
    #   p = (j_a/3 + (3 - j_a)/2 + 3/5) / 3 = 0.7 - j_a / 18
    # E[p] = 0.7 - 1.8 / 18 = 0.6 = n_train / N exactly; Var(j_a) = 3.6 - 1.8^2 = 0.36 ->
    # Var(p) = 0.36 / 324 = 1/900. (Ties counted 1/2: a scores 1 only when j_a = 3, else 1/2 ->
    # E = (0.55 + 0.6 + 0.5) / 3 = 0.55.)
    pool = ["a", "a", "a", "b", "b"]
    syn = pd.DataFrame({"c": ["a", "b", "c"]})
    raws, ses = [], []
    for tr in itertools.combinations(range(5), 3):
        train = pd.DataFrame({"c": [pool[i] for i in tr]})
        control = pd.DataFrame({"c": [pool[i] for i in range(5) if i not in tr]})
        r = dcr_measures(train, control, syn, ["c"], kinds={"c": "categorical"})
        j_a = sum(pool[i] == "a" for i in tr)
        assert r["share_closer_to_train_raw"] == pytest.approx(0.7 - j_a / 18)
        raws.append(r["share_closer_to_train_raw"])
        ses.append(r["share_closer_to_train_se_split"])
    assert len(raws) == 10
    assert float(np.mean(raws)) == pytest.approx(0.6)
    assert float(np.var(raws)) == pytest.approx(1 / 900)
    # the split standard error is that very spread: w_a = 1/9 + 1/15, w_b = 1/6 + 1/15 in every split
    assert ses == pytest.approx([1 / 30] * 10)


def test_normalised_share_maps_the_null_to_one_half():
    # p = pi -> odds(pi) / (n_train / n_control) = 1 -> 1/2
    assert normalised_share(10 / 11, 10, 1) == pytest.approx(0.5)
    assert normalised_share(0.6, 3, 2) == pytest.approx(0.5)


# -- membership inference ---------------------------------------------------------------------------


def test_membership_auc_with_ties_by_hand():
    train = pd.DataFrame({"c": ["a", "b"]})
    control = pd.DataFrame({"c": ["a", "c"]})
    syn = pd.DataFrame({"c": ["a", "b"]})
    r = membership_inference(train, control, syn, ["c"], kinds={"c": "categorical"})
    # members a, b both at DCR 0 (score 0); non-members a at 0, c at 1 (score -1).
    # pairs (member, non-member): (a,a) tie 1/2, (a,c) 1, (b,a) tie 1/2, (b,c) 1 -> AUC = 3/4
    assert r["n_members"] == 2 and r["n_non_members"] == 2
    assert r["auc"] == pytest.approx(0.75)
    assert r["risk"] == pytest.approx(0.5)  # 2 * AUC - 1
    assert math.isfinite(r["auc_se"])

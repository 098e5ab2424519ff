"""Definitions shown in the report (hover on a term, or the glossary at the end)."""

GLOSSARY: dict[str, str] = {
    "accuracy": "One-to-one accuracy: the share of true pairs that the method links correctly after "
    "each record is used at most once. Higher is better; range 0-1.",
    "precision": "Share of the proposed links that are true links. Higher is better; range 0-1.",
    "recall": "Share of the true links that were proposed. Higher is better; range 0-1.",
    "f1": "Harmonic mean of precision and recall. Higher is better; range 0-1.",
    "uniqueness bound": "Distinct combinations of the common (linking) variables divided by the number of "
    "records. Within a group of people who share all common values no method can tell them apart, so "
    "random one-to-one matching inside the group gets one right in expectation: no method that sees only "
    "these variables can expect a higher accuracy.",
    "expected bound": "The uniqueness bound generalised to parts that cover different people or "
    "disagree (recording noise): for each true pair, 1 / the larger count of left or right records "
    "sharing its common values (0 if its values disagree), averaged over true pairs. It equals the "
    "uniqueness bound when both parts hold the same people unchanged.",
    "epsilon": "Differential privacy (Dwork et al. 2006): the synthesizer's output distribution changes by "
    "at most a factor e^epsilon when one person's record of the part is changed, so no release can reveal "
    "much about any one person. Smaller epsilon = stronger protection. It covers only what was declared "
    "as public metadata; anything the synthesizer read from the data instead (bounds, categories, null "
    "presence) is listed as not covered.",
    "bridge": "A small release of cross-register counts (e.g. education level x wage band), made inside "
    "the secure environment that holds the identifier and protected by differential privacy: the only "
    "information about how the registers relate that leaves it. Fusion that uses it can go beyond what the "
    "common variables explain (the conditional-independence limit).",
    "recovered share": "Of the association (a coefficient, or a pair's Cramér's V / correlation ratio) that "
    "the conditional-independence join of the synthetic parts loses against train, the share the bridged "
    "linked table brings back: (bridged - CIA join) / (train - CIA join). 1 = all of it; 0 = none; not "
    "defined where train and the CIA join hardly differ.",
    "share unlinked": "Share of left-hand records that received no link.",
    "auc": "Area under the ROC curve of the propensity model that predicts which part a record comes "
    "from. 0.5 means the parts are indistinguishable: propensity scores carry no record-level "
    "information.",
    "singling out": "Anonymeter-style risk that an attacker can write a predicate on the synthetic data "
    "that isolates exactly one real person; (attack rate - control rate) / (1 - control rate), "
    "with a Wilson 95% interval. 0 = no more than guessing from fresh real data.",
    "linkability": "Risk that an attacker holding one institution's columns of a person can link them "
    "to the same person's other columns through the synthetic data; same risk formula.",
    "inference": "Risk that an attacker who knows some columns of a person infers a secret column "
    "through the synthetic data; same risk formula.",
    "key holder": "Record-preserving synthesis only: whoever holds the pseudonymisation key (every "
    "institution that joins the parts) knows whose row each synthetic row is. Share of persons whose "
    "true secret value their own row gives away (numbers within 5%), in excess of reading a random row; "
    "same risk formula. n/a: the rows belong to nobody (fully synthetic).",
    "dcr": "Distance to closest record: distance from each synthetic row to its nearest training row, "
    "compared with the distance to the nearest control row.",
    "accuracy interval": "95% Wilson score interval of one-to-one accuracy, counting each of the n true "
    "pairs as one trial (linked correctly or not): the sampling uncertainty of the share.",
    "association difference": "Mean absolute difference between the association of a pair of columns in "
    "the compared table and in train (Spearman for two numeric columns, Cramér's V for two categorical, "
    "the correlation ratio eta for one of each), averaged over all pairs, or over cross-part pairs only. "
    "0 = the same associations; lower is better.",
    "retained beyond the design": "Share of the cross-part association beyond conditional independence "
    "that the table keeps, averaged over cross-part pairs whose train association differs from the "
    "conditional-independence join's by at least 0.02: (assoc(J*) - assoc(CI join)) / (assoc(train) - "
    "assoc(CI join)). 1 = all of it, as in the real data; 0 = no more than a join on the common variables "
    "gives; below 0 = further from train than that join (e.g. -2.2: the gap to train is 3.2 times the gap "
    "the design leaves). Fresh real records (control) score about 1.",
    "s_pmse": "Standardised propensity mean squared error (synthpop utility.gen): a classifier is trained to "
    "tell the compared rows from train rows; pMSE = mean of (p_i - c)^2 over the stacked rows (p_i the "
    "predicted probability that row i is a compared row, c their share), divided by its expectation when "
    "both come from one distribution. About 1 = indistinguishable (fresh real records score near 1); "
    "larger = easier to tell apart; lower is better.",
    "ci overlap": "Confidence-interval overlap of a coefficient estimated on the compared table and on the "
    "training data, each interval from its own fit's standard error (Karr et al. 2006; synthpop's "
    "compare.fit by default gives the compared estimate train's standard error instead, reported as "
    "ci_overlap_orig_se): 0.5 x (overlap / length of train's "
    "interval + overlap / length of the compared interval), where a negative overlap is the gap between "
    "intervals that do not meet. 1 = identical intervals, 0 = touching, below 0 = apart (e.g. -2.7: the gap "
    "is 2.7 times the harmonic mean of the two lengths). Averaged over a question's coefficients, intercept included.",
    "observations": "n of a fit: the rows the regression used (rows with a missing value in a term are "
    "dropped), out of the rows of its table.",
    "cross-part pair": "A pair of variables held by different institutions: only linkage can bring "
    "them together, so their association is what linkage must preserve.",
    "conditional independence": "What a join that uses only the common variables can give: the two "
    "parts' own variables are independent given the common variables. Relationships beyond that are "
    "lost by design when parts are synthesized independently.",
}

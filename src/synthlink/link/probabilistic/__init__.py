"""Probabilistic (Fellegi-Sunter) linkage through Splink, on an in-memory DuckDB database (default) or Spark.

What Splink does (its own API, nothing re-implemented here):

- comparisons that fit each variable's type: exact agreement for categories; for numbers
  (years, ages, household sizes) the levels exact / ``|difference| <= 1`` / ``<= 2`` / else;
  for dates exact / within 1 month / within 1 year / else;
- blocking rules that generate the candidate pairs (each rule: exact agreement on a list of columns);
- u probabilities by random sampling (``estimate_u_using_random_sampling`` with a seed);
- m probabilities either by expectation maximisation (``m_from="em"``; one EM session per
  training rule, each rule blocking on some columns and leaving the others free to be estimated,
  as Splink documents), or from the true pairs (``m_from="truth"``; Splink's
  ``estimate_m_from_pairwise_labels``), which is possible on the original split where the true
  links are known. When a truth is given, both models are trained and both sets of weights are
  reported, so that an EM that failed to separate matches from non-matches is visible.
- the match weight and match probability of every candidate pair (``inference.predict``).

What is done here: the one-to-one step, instead of a greedy pass or Splink's whole-graph
single-best-link step (slow at 100k x 100k). The objective is the sum of the links' match
probabilities above the threshold (the expected number of correct links; ``objective="weight"``:
the sum of match weights, the maximum-likelihood assignment), solved exactly per connected
component of the candidate graph (for one exact blocking rule: the blocks).

Profiles. Match weights depend only on the compared values, so with ``one_to_one=True`` (the
default) the trained model is applied by Splink's ``predict`` to the distinct profiles of each part
(combinations of the linking columns, with a record count each), not to the records: far fewer
candidate pairs. The one-to-one step is then the same maximum-weight problem on profile counts (a
transportation problem, :func:`profile_assignment`, exact: per component ``linear_sum_assignment``
on the records' rows/columns, or an integral LP for very large components), and record pairs are
drawn within the chosen profile pairs in a seeded random order (:func:`expand_profile_pairs`).
``candidate_pairs`` still counts record pairs. With ``one_to_one=False`` every candidate record
pair is scored by Splink as before. Training (u sampling, EM, m from truth) runs on the records.

The prior ``lambda`` (probability that two random records match) is taken from the truth
(``true pairs / (n_left * n_right)``) when there is one, else from the data under the assumption that
every record of the smaller part has one match: ``min(n_left, n_right) / (n_left * n_right)``.

Privacy: only the linking columns and an internal row-position id reach Splink; identifiers and
any other column stay out. Nothing is fetched from the network (DuckDB in memory, extension
auto-install disabled); Splink's log is kept at WARNING.

Backends. ``backend="duckdb"`` (the default) runs Splink on an in-memory DuckDB database in this
process. ``backend="spark"`` runs the same Splink model (same comparisons, blocking rules, u
sampling call and seed, EM sessions or truth-trained m, same prior) through Splink's ``SparkAPI``;
only the pair list ``(left, right, match weight)`` comes back to the driver, where the one-to-one
assignment runs in numpy/scipy as above (its memory grows with the candidate pairs, not with the
cartesian product). Needs ``pyspark >= 4.0`` and Java 17 or 21 (``java`` on the PATH or
``JAVA_HOME``). Nothing is downloaded: no ``--packages``, no Maven jars; Splink's similarity-UDF
jar is not registered (``register_udfs_automatically=False``) because exact, absolute-difference
and date-difference comparisons are plain Spark SQL.

- ``spark=None`` (default): a Spark session is created for the call and stopped after it:
  ``local[2]``, 4 shuffle partitions, 2 GB driver memory, UI off, driver bound to 127.0.0.1, its
  scratch, warehouse and checkpoint directories in a temporary directory that is removed
  afterwards. ``spark_conf`` overrides or adds Spark settings of that session, e.g.
  ``{"spark.master": "spark://head:7077", "spark.executor.memory": "8g"}`` to run on a
  standalone cluster (the loopback binding is then not set). If a session is already active in
  the process it is used and left running.
- ``spark=<SparkSession>``: a session you built (for YARN, Kubernetes, Databricks, a standalone
  cluster) is used as is and left running; the temporary views this linker creates are dropped
  (and so uncached) at the end.
- ``spark_options`` go to Splink's ``SparkAPI``: ``break_lineage_method`` (default ``"persist"``
  for a local session; for a session given or on a cluster ``"parquet"`` when the session has a
  checkpoint directory, which must then be on storage every executor reads, e.g. HDFS or S3, else
  ``"persist"``), ``num_partitions_on_repartition`` (default: half of
  ``spark.sql.shuffle.partitions``), ``repartition_after_blocking``, ``catalog``, ``database``.

The u probabilities are estimated by Splink's deterministic sampler, which selects records by a
hash of their id and the seed: DuckDB's and Spark's hash functions differ, so the same seed
samples different pairs on the two backends and u (hence the weights) differ by sampling error.
With ``max_pairs_u >= n_left * n_right`` and ``u_min_count=None`` nothing is sampled (u from
every pair) and the two backends give the same model and, with ``m_from="truth"``, the same links;
EM then agrees to floating-point accuracy (sums are taken in another order).
"""

from synthlink.link.assignment import (
    expand_profile_pairs,
    one_to_one_assignment,
    profile_assignment,
)
from synthlink.link.probabilistic.backends import SPARK_LOCAL_CONF, SPARK_LOOPBACK_CONF
from synthlink.link.probabilistic.comparisons import default_blocking
from synthlink.link.probabilistic.linker import ProbabilisticLinker
from synthlink.link.probabilistic.model import assignment_values

__all__ = [
    "SPARK_LOCAL_CONF",
    "SPARK_LOOPBACK_CONF",
    "ProbabilisticLinker",
    "assignment_values",
    "default_blocking",
    "expand_profile_pairs",
    "one_to_one_assignment",
    "profile_assignment",
]

"""The pipeline's stages as plain functions, which :class:`synthlink.study.Study` and every
command-line verb call, so that an institution's stage-by-stage path gives the study's numbers.

    data        load_data, surrogate_identifier
    synthesis   synthesize_part, guarantee, key_positions, source_positions
    linking     link_parts, baseline_specs, pseudo_key (and the links' cache format)
    evaluation  reference_tables, evaluate_utility, evaluate_privacy, evaluate_measures,
                evaluate_influence
    workers     EvalQueue, run_in_workers, stop_on_signals (evaluations on all cores, clean stops)

Reconstruction is :mod:`synthlink.reconstruct`. Only the study knows the whole order.
"""

from synthlink.pipeline.data import load_data, surrogate_identifier
from synthlink.pipeline.evaluation import (
    evaluate_influence,
    evaluate_measures,
    evaluate_privacy,
    evaluate_utility,
    evaluation_key,
    reference_tables,
    sample_index,
)
from synthlink.pipeline.linking import (
    KEY_COLUMNS,
    TRUTH_COLUMN,
    accepts,
    baseline_specs,
    cached_link,
    link_parts,
    links_from_cache,
    links_meta,
    links_to_frame,
    pseudo_key,
)
from synthlink.pipeline.synthesis import (
    guarantee,
    handed_over_path,
    key_positions,
    load_handed_over,
    source_positions,
    synthesize_part,
)
from synthlink.pipeline.workers import (
    EvalQueue,
    StudyStopped,
    guard,
    run_in_workers,
    run_task,
    stop_on_signals,
    stop_workers,
    worker_init,
)

__all__ = [
    "KEY_COLUMNS",
    "TRUTH_COLUMN",
    "EvalQueue",
    "StudyStopped",
    "accepts",
    "baseline_specs",
    "cached_link",
    "evaluate_influence",
    "evaluate_measures",
    "evaluate_privacy",
    "evaluate_utility",
    "evaluation_key",
    "guarantee",
    "guard",
    "handed_over_path",
    "key_positions",
    "link_parts",
    "links_from_cache",
    "links_meta",
    "links_to_frame",
    "load_data",
    "load_handed_over",
    "pseudo_key",
    "reference_tables",
    "run_in_workers",
    "run_task",
    "sample_index",
    "source_positions",
    "stop_on_signals",
    "stop_workers",
    "surrogate_identifier",
    "synthesize_part",
    "worker_init",
]

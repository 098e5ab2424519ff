"""Conformance suites: every registered linker, synthesizer and privacy/utility measure checked
against the same contract (in the manner of scikit-learn's ``check_estimator``)."""

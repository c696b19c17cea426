"""Estimators that allow people to differ in their chances of being listed: Chao's lower bound, Zelterman's
estimator, the Mh / Mth heterogeneity models in log-linear form, and the Chao-Tsay sample-coverage estimators."""

from ._chao import chao_lower_bound, zelterman
from ._coverage import sample_coverage, sample_coverage_table
from ._mh import heterogeneity

__all__ = ["chao_lower_bound", "zelterman", "heterogeneity", "sample_coverage", "sample_coverage_table"]

"""Person records with missing covariates: multiple imputation (:func:`impute`) and pooling (:func:`pool`)."""

from ._impute import Imputations, impute
from ._pool import ImputedStrataResult, PooledDailyRates, pool

__all__ = ["ImputedStrataResult", "Imputations", "PooledDailyRates", "impute", "pool"]

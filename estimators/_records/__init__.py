"""Person records with missing covariates: multiple imputation (:func:`impute`) and pooling (:func:`pool`)."""

from ._impute import Imputations, impute
from ._pool import PooledDailyRates, PooledStrataResult, pool

__all__ = ["Imputations", "PooledDailyRates", "PooledStrataResult", "impute", "pool"]

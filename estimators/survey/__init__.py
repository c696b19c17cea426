"""Household mortality surveys: the SMART/ENA crude death rate and the "one family in three" summary form.

Two estimators, usable alone and as inputs to the joint daily-rate model (:func:`estimators.daily_rates`):

* :func:`mortality_rate`: rows per household (or per person) of a cluster survey with a recall period; person-time
  with the SMART half-period corrections and the crude death rate per 10,000 per day as a design-based ratio
  estimator (Taylor linearisation over clusters, optional strata and weights), with the design effect.
* :func:`affected_households`: what reports often give instead of a data set (households interviewed, households
  that lost at least one member, mean household size) turned into a posterior for deaths in a population, every
  assumption stated in the result.
* :func:`excess_mortality`: excess rate and excess deaths against a baseline (a number with its uncertainty, a
  pre-crisis survey or a projection), beside the Sphere humanitarian thresholds.
* :func:`survivor_bias`: the rate had a share of households died out entirely (a sensitivity table).
* :func:`plausibility`: SMART plausibility checks of household or roster data (age heaping, sex ratio, household
  size, under-fives, missing data), raised as warnings by :func:`mortality_rate`.

:func:`mortality_rate` also takes individual rosters (exact person-time from dates), rates by group (age, sex,
region), the under-five and cause-specific rates, and post-stratification or raking to known totals.
"""

from ._excess import ExcessMortality, excess_mortality
from ._households import AffectedHouseholds, affected_households
from ._plausibility import PlausibilityReport, PlausibilityWarning, plausibility
from ._rate import SurveyRate, mortality_rate
from ._smart import load_smart_example, person_days
from ._survivor import survivor_bias

__all__ = ["SurveyRate", "AffectedHouseholds", "ExcessMortality", "PlausibilityReport", "PlausibilityWarning",
           "mortality_rate", "affected_households", "excess_mortality", "plausibility", "survivor_bias", "person_days",
           "load_smart_example"]

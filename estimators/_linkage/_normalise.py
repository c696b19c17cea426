"""Standardising records before they are compared: names as comparison keys, ages, dates of death.

Names are compared by keys rather than as written. A key is the name in lower case without accents, apostrophes
or hyphens, without the article ("al-", "el-", "Al ", "el "), with "Abd al-X" / "Abdul X" written as one word,
and with the common spellings of a name mapped to one form (Mohammed, Muhammad, Mohamed, Mohammad -> muhamad):
first a few spelling rules (ou -> u, ee -> i, ph -> f, q -> k, doubled letters single, a final "ah" -> "a"),
then a table of variant groups for the commonest names. What is left (a typo, a rarer variant) is for the
Jaro-Winkler comparison. A second key, every name token of the record sorted, lets a record whose given and
family names were swapped agree with the other.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
import pandas as pd

from ..exceptions import DataError

# variant groups of common Arabic names in Latin letters (after the spelling rules below); the first is the key
VARIANTS = [
    ("muhamad", "mohamad", "mohamed", "muhamed", "mohd", "mhamad", "mahamad"),
    ("ahmad", "ahmed", "ahmet"),
    ("husain", "husein", "husayn", "hussain", "hosein", "husin"),
    ("hasan", "hasen"),
    ("umar", "omar", "omer"),
    ("abdala", "abdula", "abdalah", "abdulah", "abdlah"),
    ("mahmud", "mahmod", "mahmoud"),
    ("mustafa", "mostafa", "mustapha", "mostapha", "mustafha"),
    ("yusuf", "yusef", "yosef", "yousif", "yusif"),
    ("ibrahim", "ebrahim", "ibraheem"),
    ("khalid", "khaled"),
    ("salih", "saleh"),
    ("uthman", "othman", "osman", "usman", "utman"),
    ("karim", "kerim"),
    ("jamal", "gamal"),
    ("tarik", "tarek", "tarak"),
    ("walid", "walid"),
    ("said", "sayid", "saed"),
    ("ziyad", "ziad", "zyad"),
    ("hamza", "hamze"),
    ("yasir", "yaser", "yasar"),
    ("samir", "sameer"),
    ("nabil", "nabel"),
    ("adil", "adel"),
    ("faisal", "faysal", "faisel"),
    ("majid", "majed", "magid", "maged"),
    ("imad", "emad"),
    ("raid", "raed"),
    ("salim", "salem", "selim"),
    ("kasim", "kasem", "gasim"),
    ("jafar", "jafer", "gafar"),
    ("haidar", "haider", "hayder"),
    ("idris", "edris"),
    ("usama", "osama"),
    ("zaid", "zayd", "zeid"),
    ("mazin", "mazen"),
    ("hamid", "hamed"),
    ("jasim", "jasem", "gasim"),
    ("nasir", "naser", "nasser"),
    ("fatima", "fatema", "fatma", "fatimah"),
    ("aisha", "aysha", "ayesha", "aesha", "aicha"),
    ("zainab", "zaynab", "zeinab", "zenab"),
    ("mariam", "maryam", "miriam", "meriam"),
    ("khadija", "khadijah", "khadeja"),
    ("nur", "nor", "nour"),
    ("laila", "layla", "leila", "lela", "lila"),
    ("huda", "hoda"),
    ("imen", "iman", "eman"),
    ("rukaya", "rokaya", "rukaia", "rukaiya"),
    ("asma", "asmaa"),
    ("hiba", "heba"),
    ("shaima", "shaimaa", "shayma"),
    ("rim", "reem"),
    ("yasmin", "yasmeen", "yasmine"),
    ("jamila", "gamila"),
    ("juburi", "jaburi", "jbouri", "jubori"),
    ("ubaidi", "obaidi", "ubaydi", "obeidi"),
    ("dulaimi", "dulaymi", "dlaimi"),
    ("shamari", "shammari"),
    ("rubai", "rubaie", "rubaiy", "rubay"),
    ("hashimi", "hashemi", "hashmi"),
    ("sadi", "saadi"),
    ("kubaisi", "kubaysi", "kbaisi"),
    ("zubaidi", "zubaydi", "zobaidi"),
    ("kaisi", "qaisi", "kaysi"),
    ("musuli", "mawsili", "mosuli", "mausili"),
    ("hamudi", "hamoudi"),
    ("khuri", "khouri", "khoury", "khury"),
    ("mansur", "mansor"),
    ("yasin", "yassin", "yaseen"),
    ("darwish", "darweesh", "darwesh"),
    ("kasab", "qassab", "kassab", "gasab"),
    ("ghanim", "ghanem"),
    ("nuaimi", "nuaymi", "naimi"),
]

_ARTICLES = ("al", "el", "ul", "il")
_RULES = [("ou", "u"), ("oo", "u"), ("ee", "i"), ("ph", "f"), ("q", "k"), ("ei", "ai"), ("ay", "ai")]


def spelling(token: str) -> str:
    """The spelling rules: ``spelling("Mohammed")`` -> ``"mohamed"``, then the variant table gives ``"muhamad"``."""
    token = token.lower()
    for old, new in _RULES:
        token = token.replace(old, new)
    token = re.sub(r"(.)\1+", r"\1", token)
    if len(token) > 3 and token.endswith("ah"):
        token = token[:-1]
    return token


_LOOKUP: dict[str, str] = {}
for _group in VARIANTS:
    for _variant in _group:
        _LOOKUP.setdefault(spelling(_variant), _group[0])


def tokens(text) -> list[str]:
    """The keys of the name tokens in ``text`` (article dropped, "abd al x" joined, variants mapped)."""
    if not isinstance(text, str):
        if text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
            return []
        text = str(text)
    return list(_tokens(text))


@functools.lru_cache(maxsize=1_000_000)
def _tokens(text: str) -> tuple:
    """:func:`tokens` of one string, cached: names repeat, so each distinct spelling is worked out once."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['`’ʿʾ]", "", text)
    text = re.sub(r"\b(?:al|el|ul|il)-", " ", text)
    words = [w for w in re.split(r"[^a-z]+", text) if w and w not in _ARTICLES]
    out, i = [], 0
    while i < len(words):  # "abd al-rahman", "abdul rahman", "abdel rahman" -> "abdrahman"
        w = words[i]
        if w in ("abd", "abdul", "abdel", "abdal", "abdol") and i + 1 < len(words):
            out.append("abd" + words[i + 1])
            i += 2
            continue
        out.append(w)
        i += 1
    keys = []
    for w in out:
        s = spelling(w)
        if s.startswith("abdul") and len(s) > 6 and s not in _LOOKUP:
            s = "abd" + s[5:]
        keys.append(_LOOKUP.get(s, s))
    return tuple(keys)


def skeleton(key) -> str | None:
    """A phonetic key of a name key: its first letter, then its consonants (vowels, h, w and y dropped, repeats
    once), four letters at most. ``skeleton("husain") == skeleton("hsain") == "hsn"``: a typo that drops or
    changes a vowel, or transposes two letters around one, keeps the key, which is what blocking needs."""
    if not isinstance(key, str) or not key:
        return None
    return _skeleton(key)


@functools.lru_cache(maxsize=200_000)
def _skeleton(key: str) -> str:
    consonants = re.sub(r"[^a-z]|[aeiouyhw]", "", key[1:])
    return re.sub(r"(.)\1+", r"\1", key[0] + consonants)[:4]


def name_key(text) -> str | None:
    """One name field as a comparison key (its tokens joined), or None when empty."""
    keys = tokens(text)
    return " ".join(keys) if keys else None


def _keys(values) -> list:
    """:func:`name_key` of every value, worked out once per distinct value (names repeat)."""
    series = pd.Series(values, dtype=object)
    distinct = series.dropna().unique()
    mapped = series.map(dict(zip(distinct, (name_key(v) for v in distinct)))).astype(object)
    return mapped.where(mapped.notna(), None).tolist()  # no key (a blank, only an article): None, not nan


FIELDS = ("first_name", "father_name", "family_name", "name", "sex", "age", "birth_year", "date_of_death",
          "place", "id", "grandfather_name", "mother_name", "neighbourhood", "national_id")
# fields compared only when a list carries them
OPTIONAL = ("grandfather_name", "mother_name", "neighbourhood", "national_id")


def _column(frame: pd.DataFrame, columns: dict, field: str):
    name = columns.get(field, field)
    return frame[name] if name in frame.columns else None


def _dates(values: pd.Series):
    """Dates of death as (date, month): full dates as given; a month alone ('2017-03') the 15th, month kept."""
    text = values.astype("string").str.strip()
    full = pd.to_datetime(text.where(text.str.len() >= 8), errors="coerce", format="mixed")
    month_only = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{1,2}").fillna(False)) + "-15",
                                errors="coerce", format="%Y-%m-%d")
    if pd.api.types.is_datetime64_any_dtype(values):
        full = pd.to_datetime(values, errors="coerce")
        month_only = pd.Series(pd.NaT, index=values.index)
    date = full.fillna(month_only)
    month = date.dt.strftime("%Y-%m")
    return date.astype("datetime64[us]"), month.where(date.notna(), None), month_only.notna() & full.isna()


def prepare(lists: dict, columns: dict | None) -> pd.DataFrame:
    """All the lists' records in one frame, with the comparison columns splink reads.

    Columns: ``unique_id`` (0..n-1), ``list``, ``record_id`` (the list's id as text), the originals
    (``first_name``, ``father_name``, ``family_name``, ``sex``, ``age``, ``date_of_death``, ``place``, as given or
    None), and the keys: ``first_key``, ``father_key``, ``family_key``, ``sorted_key`` (all tokens sorted),
    ``core_key`` (the given and family names' tokens sorted: a missing or garbled father's name left out),
    ``first_ph``, ``father_ph``, ``family_ph`` (phonetic skeletons, :func:`skeleton`), ``first3``, ``family2``,
    ``sex_key``, ``age_years``, ``age_band``, ``dod`` (a date), ``death_month``, ``place_key``, and for the fields
    some lists carry (``grandfather_name``, whose tokens join ``sorted_key``; ``mother_name``, ``neighbourhood``,
    ``national_id``) the originals and ``mother_key``, ``quarter_key``, ``id_key`` (the id's digits).
    """
    columns = dict(columns or {})
    frames = []
    for list_name, frame in lists.items():
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"List {list_name!r} must be a pandas DataFrame of its records; got "
                            f"{type(frame).__name__}.")
        if len(frame) == 0:
            raise DataError(f"List {list_name!r} has no records.")
        n = len(frame)
        out = pd.DataFrame(index=range(n))
        out["list"] = str(list_name)
        ids = _column(frame, columns, "id")
        if ids is None and "record_id" in frame.columns:
            ids = frame["record_id"]
        out["record_id"] = (ids.astype(str).to_numpy() if ids is not None else frame.index.astype(str).to_numpy())
        if out["record_id"].duplicated().any():
            dup = out["record_id"][out["record_id"].duplicated()].iloc[0]
            raise DataError(f"List {list_name!r}: record id {dup!r} is used more than once; ids must be unique "
                            "within a list (name the id column with columns={'id': ...}).")
        first, father, family = (_column(frame, columns, f) for f in ("first_name", "father_name", "family_name"))
        whole = _column(frame, columns, "name")
        if first is None and family is None:
            if whole is None:
                raise DataError(f"List {list_name!r} has no name columns: give first_name/father_name/family_name "
                                "or one `name` column (or map yours with columns={'first_name': ..., ...}).")
            parts = [tokens(v) for v in whole]
            out["first_name"] = whole.to_numpy()
            out["father_name"] = None
            out["family_name"] = None
            first_keys = [p[0] if p else None for p in parts]
            family_keys = [p[-1] if len(p) > 1 else None for p in parts]
            father_keys = [" ".join(p[1:-1]) if len(p) > 2 else None for p in parts]
        else:
            for field, values in (("first_name", first), ("father_name", father), ("family_name", family)):
                out[field] = values.to_numpy() if values is not None else None
            first_keys, father_keys, family_keys = (_keys(out[f]) for f in ("first_name", "father_name",
                                                                            "family_name"))
            parts = [(a or "").split() + (b or "").split() + (c or "").split()
                     for a, b, c in zip(first_keys, father_keys, family_keys)]
        for field in OPTIONAL:
            values = _column(frame, columns, field)
            out[field] = values.to_numpy() if values is not None else None
        # the grandfather's name is part of the name chain: its tokens join the sorted key
        parts = [p + (g or "").split() for p, g in zip(parts, _keys(out["grandfather_name"]))]
        out["mother_key"] = _keys(out["mother_name"])
        out["quarter_key"] = _keys(out["neighbourhood"])
        ids = pd.Series(out["national_id"])
        if pd.api.types.is_numeric_dtype(ids):  # numbers read with blanks as floats: 7.5e11 -> "750000000000"
            ids = ids.round().astype("Int64")
        digits = ids.astype("string").str.replace(r"\D", "", regex=True)
        out["id_key"] = digits.where(digits.str.len() > 0).astype(object).to_numpy()
        out["first_key"], out["father_key"], out["family_key"] = first_keys, father_keys, family_keys
        out["sorted_key"] = [" ".join(sorted(p)) if p else None for p in parts]
        core = [(a or "").split() + (b or "").split() for a, b in zip(first_keys, family_keys)]
        out["core_key"] = [" ".join(sorted(c)) if c else None for c in core]
        for field, keys in (("first_ph", first_keys), ("father_ph", father_keys), ("family_ph", family_keys)):
            out[field] = [skeleton(k) for k in keys]
        sex = _column(frame, columns, "sex")
        out["sex"] = sex.to_numpy() if sex is not None else None
        key = out["sex"].astype("string").str.strip().str.lower().str[:1]
        out["sex_key"] = key.map({"m": "m", "f": "f", "w": "f", "ذ": "m", "أ": "f"}).astype(object)
        dates = _column(frame, columns, "date_of_death")
        if dates is not None:
            date, month, _ = _dates(dates.reset_index(drop=True))
            out["date_of_death"], out["dod"], out["death_month"] = dates.to_numpy(), date.to_numpy(), month.to_numpy()
        else:  # typed as dates all the same: DuckDB cannot compare untyped nulls by date difference
            out["date_of_death"] = out["death_month"] = None
            out["dod"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
        age = _column(frame, columns, "age")
        birth = _column(frame, columns, "birth_year")
        years = pd.to_numeric(age, errors="coerce").to_numpy(dtype=float) if age is not None else np.full(n, np.nan)
        if birth is not None:  # age at death from the year of birth (the list's median year of death if unknown)
            born = pd.to_numeric(birth, errors="coerce").to_numpy(dtype=float)
            died = pd.to_datetime(pd.Series(out["dod"]), errors="coerce").dt.year.to_numpy(dtype=float)
            if np.any(np.isfinite(died)):
                died = np.where(np.isnan(died), np.nanmedian(died), died)
                years = np.where(np.isnan(years), died - born, years)
        out["age"] = age.to_numpy() if age is not None else (birth.to_numpy() if birth is not None else None)
        out["age_years"] = years
        out["age_band"] = np.where(np.isnan(years), None, np.floor(np.nan_to_num(years) / 10).astype("int64").astype(str))
        place = _column(frame, columns, "place")
        out["place"] = place.to_numpy() if place is not None else None
        out["place_key"] = _keys(out["place"])
        out["first3"] = [k[:3] if isinstance(k, str) and k else None for k in out["first_key"]]
        out["family2"] = [k[:2] if isinstance(k, str) and k else None for k in out["family_key"]]
        frames.append(out)
    records = pd.concat(frames, ignore_index=True)
    records.insert(0, "unique_id", np.arange(len(records), dtype=np.int64))
    for c in records.columns:
        if records[c].dtype == object or str(records[c].dtype).startswith("string"):
            records[c] = records[c].astype(object).where(records[c].notna(), None)
    return records

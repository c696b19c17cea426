"""Named death records on several lists, with known truth: the test bed of :func:`estimators.link`.

A closed population of deaths (given name, father's name, family name, sex, age, date and place of death) is drawn
from pools of Arabic names as they are transliterated into Latin letters (several spellings per name, family names
with and without "al-"). Each list captures each death with its own probability (optionally varying between
people); every record is then written down with the noise of real lists: another spelling, a typo, the name order
swapped, fields left blank, an age rounded to 5, a date known only to the month, and now and then the same death
entered twice on one list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd

from .._validation import Interval, Options, Seed, check_random_seed, resolve_seed, validate_params

__all__ = ["SimulatedNamedLists", "simulate_named_lists"]

# Each entry: the spellings of one name; the first is the most common.
MALE = [
    ("Mohammed", "Muhammad", "Mohamed", "Mohammad", "Muhammed"), ("Ahmed", "Ahmad"), ("Ali",),
    ("Hussein", "Husain", "Hussain", "Husayn"), ("Hassan", "Hasan"), ("Omar", "Umar"),
    ("Abdullah", "Abdallah", "Abd Allah"), ("Mahmoud", "Mahmud"), ("Mustafa", "Mustapha", "Moustafa"),
    ("Youssef", "Yusuf", "Yousef"), ("Ibrahim", "Ebrahim"), ("Khalid", "Khaled"), ("Saleh", "Salih"),
    ("Othman", "Uthman", "Osman"), ("Karim", "Kareem"), ("Jamal", "Gamal"), ("Tariq", "Tareq", "Tarek"),
    ("Walid", "Waleed"), ("Saeed", "Said"), ("Ziad", "Ziyad"), ("Bilal",), ("Hamza", "Hamzah"), ("Anas",),
    ("Yasser", "Yasir"), ("Samir", "Sameer"), ("Nabil", "Nabeel"), ("Adel", "Adil"), ("Faisal", "Faysal"),
    ("Rami",), ("Fadi",), ("Majid", "Majed"), ("Imad", "Emad"), ("Raed", "Ra'ed"), ("Salim", "Saleem"),
    ("Qasim", "Kassem", "Qassim"), ("Abbas",), ("Jafar", "Ja'far"), ("Haider", "Haidar"), ("Ammar",),
    ("Yahya",), ("Idris", "Idrees"), ("Sami",), ("Firas",), ("Ayman",), ("Osama", "Usama"), ("Zaid", "Zayd"),
    ("Mazen", "Mazin"), ("Hamid", "Hamed"), ("Jasim", "Jassim"), ("Nasser", "Nasir"),
]
FEMALE = [
    ("Fatima", "Fatema", "Fatma"), ("Aisha", "Aysha", "Ayesha"), ("Zainab", "Zaynab", "Zeinab"),
    ("Maryam", "Mariam"), ("Khadija", "Khadijah"), ("Noor", "Nour", "Nur"), ("Layla", "Leila", "Laila"),
    ("Huda", "Hoda"), ("Amina", "Aminah"), ("Sara", "Sarah"), ("Rania",), ("Hanan",), ("Iman", "Eman"),
    ("Samira", "Sameera"), ("Nadia",), ("Salma",), ("Rasha",), ("Dalia",), ("Ruqaya", "Roqaya"),
    ("Asmaa", "Asma"), ("Hiba", "Heba"), ("Shaima", "Shaimaa"), ("Widad",), ("Suha",), ("Lina",),
    ("Reem", "Rim"), ("Yasmin", "Yasmeen"), ("Jamila", "Gamila"), ("Basma",), ("Maha",),
]
FAMILY = [
    ("Jubouri", "Jabouri", "Juburi"), ("Obaidi", "Ubaidi"), ("Dulaimi", "Dulaymi"), ("Tamimi",),
    ("Shammari", "Shamari"), ("Janabi",), ("Azzawi",), ("Rubaie", "Rubaiy"), ("Khafaji",), ("Hashimi", "Hashemi"),
    ("Saadi", "Sa'adi"), ("Kubaisi", "Kubaysi"), ("Mashhadani",), ("Hamdani",), ("Zubaidi", "Zubaydi"), ("Ani",),
    ("Hadithi",), ("Rawi",), ("Qaisi", "Kaisi"), ("Bayati",), ("Sabawi",), ("Mosuli", "Mawsili"), ("Tikriti",),
    ("Khazraji",), ("Lami",), ("Maliki",), ("Asadi",), ("Kurdi",), ("Hamoudi", "Hamudi"), ("Haddad",),
    ("Najjar",), ("Khoury", "Khouri"), ("Mansour", "Mansur"), ("Yassin", "Yasin"), ("Darwish", "Darweesh"),
    ("Qassab", "Kassab"), ("Sultan",), ("Ghanem", "Ghanim"), ("Nuaimi", "Nuaymi"), ("Juhaishi",),
]
# family names written with the article ("al-Jubouri") in some records and without it in others
ARTICLE = {i for i in range(len(FAMILY)) if i < 29}
# name_pool="large": the common names above, then these, less common (the Zipf frequencies put them in the tail)
MORE_MALE = [
    ("Adnan",), ("Akram",), ("Alaa", "Ala'a"), ("Amer", "Amir"), ("Ashraf",), ("Ayad", "Iyad"), ("Aziz",),
    ("Badr",), ("Bashar",), ("Bassam", "Basam"), ("Dhia", "Diaa"), ("Fadhil", "Fadil"), ("Fahd",), ("Falah",),
    ("Farouk", "Faruq"), ("Fawzi",), ("Fuad", "Fouad"), ("Ghassan",), ("Ghazi",), ("Habib",), ("Hadi",),
    ("Haitham", "Haytham"), ("Hakim",), ("Hamad",), ("Hani", "Hany"), ("Harith",), ("Hatem", "Hatim"),
    ("Hazim", "Hazem"), ("Hikmat",), ("Hisham",), ("Ihsan",), ("Isam", "Essam"), ("Ismail", "Ismael"),
    ("Issa", "Isa"), ("Jabbar",), ("Jalal",), ("Jawad",), ("Kadhim", "Kazim", "Kathim"), ("Kamal",), ("Kamil",),
    ("Khalil",), ("Laith", "Layth"), ("Luay", "Louay"), ("Mahdi", "Mehdi"), ("Malik",), ("Marwan",),
    ("Masoud", "Masud"), ("Muayad", "Moayad"), ("Muhannad", "Mohannad"), ("Munir", "Mounir"), ("Murad",),
    ("Musa", "Mousa"), ("Muthanna",), ("Nadhim", "Nazim"), ("Naji",), ("Nawaf",), ("Nizar",), ("Nouri", "Nuri"),
    ("Qais", "Qays", "Kais"), ("Radhi", "Radi"), ("Rafid",), ("Rashid", "Rasheed"), ("Riyadh", "Riyad"),
    ("Saad", "Sa'ad"), ("Sabah",), ("Sadiq", "Sadeq"), ("Safaa",), ("Sahib",), ("Salah", "Salaheddin"),
    ("Salman",), ("Shakir", "Shaker"), ("Shihab",), ("Subhi",), ("Suhail", "Suhayl"), ("Taha",), ("Talal",),
    ("Taher", "Tahir"), ("Thamer", "Thamir"), ("Wael", "Wa'il"), ("Wissam", "Wisam"), ("Younis", "Yunus"),
    ("Zuhair", "Zuhayr"), ("Zakariya", "Zakaria"), ("Abd al-Rahman", "Abdul Rahman", "Abdel Rahman"),
    ("Abd al-Karim", "Abdul Karim"), ("Abd al-Aziz", "Abdul Aziz"), ("Abd al-Razzaq", "Abdul Razzaq"),
    ("Abd al-Jabbar", "Abdul Jabbar"), ("Abd al-Sattar", "Abdul Sattar"), ("Abd al-Wahab", "Abdul Wahab"),
    ("Abd al-Hamid", "Abdul Hamid"), ("Abd al-Majid", "Abdul Majid"), ("Abd al-Qadir", "Abdul Qadir"),
    ("Abd al-Latif", "Abdul Latif"), ("Abd al-Ghani", "Abdul Ghani"), ("Abd al-Salam", "Abdul Salam"),
    ("Abd al-Rahim", "Abdul Rahim"), ("Abd al-Amir", "Abdul Amir"), ("Abd al-Hussein", "Abdul Hussein"),
]
MORE_FEMALE = [
    ("Abeer", "Abir"), ("Afaf",), ("Ahlam",), ("Alya", "Aliya"), ("Amal",), ("Arwa",), ("Bushra",),
    ("Duaa", "Doaa"), ("Ibtisam", "Ebtisam"), ("Fadia",), ("Farah",), ("Fawzia", "Fawziya"), ("Ghada",),
    ("Hala",), ("Halima", "Halimah"), ("Hana", "Hanaa"), ("Haifa", "Hayfa"), ("Inaam", "In'am"),
    ("Intisar",), ("Israa", "Isra"), ("Jinan",), ("Karima", "Kareema"), ("Khawla", "Khawlah"), ("Lamia",),
    ("Latifa", "Lateefa"), ("Lubna",), ("Majida",), ("Manal",), ("Marwa", "Marwah"), ("Mona", "Muna"),
    ("Nada",), ("Najla",), ("Nawal",), ("Nisreen", "Nesrin"), ("Rabab",), ("Raghad",), ("Rana",), ("Randa",),
    ("Rihab", "Rehab"), ("Saba",), ("Sahar",), ("Saja",), ("Samar",), ("Sana", "Sanaa"), ("Sawsan", "Susan"),
    ("Shatha", "Shaza"), ("Shurouq", "Shorouk"), ("Sundus",), ("Taghreed", "Taghrid"), ("Tamara",),
    ("Wafaa", "Wafa"), ("Wijdan",), ("Zahraa", "Zahra"), ("Kawthar", "Kawther"), ("Ilham", "Elham"),
    ("Sumaya", "Sumayyah"), ("Najat",), ("Fadila", "Fadhila"), ("Ruqiya",), ("Umm Kulthum",),
]
MORE_FAMILY = [
    ("Abbasi",), ("Adhami",), ("Alusi", "Alousi"), ("Ameri", "Amiri"), ("Ansari",), ("Aqidi",), ("Azami",),
    ("Badri",), ("Bakri",), ("Baghdadi",), ("Basri",), ("Bazzaz",), ("Dabbagh",), ("Dawoodi", "Dawudi"),
    ("Douri", "Duri"), ("Fahdawi",), ("Falahi",), ("Fayadh", "Fayyad"), ("Fartusi",), ("Habbubi",),
    ("Halabi",), ("Hasani",), ("Hayali",), ("Hilli",), ("Husseini", "Husaini"), ("Jaafari", "Ja'fari"),
    ("Jabiri",), ("Jamili",), ("Jazairi",), ("Jumaili", "Jumayli"), ("Karbalai",), ("Kaabi", "Ka'bi"),
    ("Kanani",), ("Karkhi",), ("Kazimi", "Kadhimi"), ("Khalidi",), ("Khatib",), ("Kindi",), ("Lahibi",),
    ("Mahdawi",), ("Mahmudi",), ("Marsumi",), ("Mashhadi",), ("Masoudi",), ("Misri",), ("Mousawi", "Musawi"),
    ("Mufti",), ("Mutairi",), ("Naqib",), ("Nasiri",), ("Qadiri",), ("Qurashi", "Qureshi"), ("Rashidi",),
    ("Rifai", "Rifa'i"), ("Saedi", "Sa'idi"), ("Safi",), ("Salihi",), ("Samarrai", "Samarai"), ("Sarraf",),
    ("Sayegh", "Sayigh"), ("Shaibani", "Shaybani"), ("Shawi",), ("Suwaidi",), ("Taai", "Ta'i"), ("Talabani",),
    ("Turkmani",), ("Umari", "Omari"), ("Uqaili", "Ugaili"), ("Waeli", "Wa'ili"), ("Yasiri",), ("Zahawi",),
    ("Zaidi", "Zeidi"), ("Hiti",), ("Rawi",), ("Fallahi",), ("Mashhadani",), ("Sharabi",), ("Hamadani",),
    ("Khashab",), ("Attar",), ("Sabbagh",), ("Hallaq",), ("Jarrah",), ("Tahan",), ("Qattan",), ("Khayyat",),
    ("Nimr",), ("Dhahir", "Zahir"), ("Saghir",), ("Kabir",), ("Aswad",), ("Abyad",), ("Hassoun", "Hasun"),
    ("Jasim",), ("Hamadi",), ("Abboud", "Abbud"), ("Mahmoud",), ("Ali",), ("Salman",), ("Ibrahim",),
]
# fields="full": neighbourhoods, 40 within each place, named like Iraqi urban sectors ("Hay al-Zuhur 2")
QUARTERS = ["Zuhur", "Nur", "Salam", "Amil", "Jamia", "Sukkar", "Tahrir", "Muthanna", "Karama", "Risala",
            "Andalus", "Quds", "Hadba", "Rifaq", "Sihha", "Mualimin", "Dhubbat", "Arabi", "Wahda", "Nahrawan"]

PLACES = ["Old City", "Zanjili", "Yarimja", "Mosul al-Jadida", "Hay al-Tanak", "Bab Sinjar", "Tal Afar", "Hammam al-Alil"]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, eq=False)
class SimulatedNamedLists:
    """Simulated lists of named deaths with the truth kept apart.

    Attributes
    ----------
    lists : dict of str -> pandas.DataFrame
        One DataFrame per list, what :func:`estimators.link` reads: ``record_id``, ``first_name``,
        ``father_name``, ``family_name``, ``sex``, ``age``, ``date_of_death`` (text: ``YYYY-MM-DD``, or
        ``YYYY-MM`` when only the month is known), ``place``. No column gives away the person.
    true_ids : dict of str -> pandas.Series
        For each list, the person behind each record (indexed by ``record_id``): the hidden answer.
    truth : pandas.DataFrame
        The population, one row per death (``true_id``, the names as first spelled, ``sex``, ``age``,
        ``date_of_death``, ``place``) and a 0/1 column per list (captured or not).
    n_deaths : int
    settings : dict
        The arguments that made it (``random_seed`` as an integer to pass back).
    """

    lists: dict
    true_ids: dict
    truth: pd.DataFrame
    n_deaths: int
    settings: dict = field(default_factory=dict)

    def true_histories(self):
        """The capture histories of the deaths on at least one list, as if linkage were perfect."""
        from ..histories import CaptureHistories

        names = list(self.lists)
        seen = self.truth.loc[self.truth[names].sum(axis=1) > 0, names + ["sex", "place"]]
        return CaptureHistories.from_records(seen, names, covariates=["sex", "place"])

    def true_matches(self) -> pd.DataFrame:
        """Every pair of records (any two lists, or one list twice) of the same person: ``list_l``,
        ``record_id_l``, ``list_r``, ``record_id_r`` (the form :func:`estimators.link` takes as ``training``)."""
        frames = [pd.DataFrame({"list": name, "record_id": ids.index, "true_id": ids.to_numpy()})
                  for name, ids in self.true_ids.items()]
        records = pd.concat(frames, ignore_index=True)
        pairs = records.merge(records, on="true_id", suffixes=("_l", "_r"))
        keep = (pairs["list_l"] + "\x00" + pairs["record_id_l"]) < (pairs["list_r"] + "\x00" + pairs["record_id_r"])
        return pairs.loc[keep, ["list_l", "record_id_l", "list_r", "record_id_r"]].reset_index(drop=True)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}: {len(v):,}" for k, v in self.lists.items())
        return f"<SimulatedNamedLists: {self.n_deaths:,} deaths; records {sizes}>"


def _typo(word: str, rng) -> str:
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word)))
    kind = rng.integers(3)
    if kind == 0:  # substitution
        return word[:i] + LETTERS[int(rng.integers(26))] + word[i + 1:]
    if kind == 1:  # deletion
        return word[:i] + word[i + 1:]
    if i < len(word) - 1:  # transposition
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i] + word[i:]  # doubled letter


def _spell(pool, index: int, rng, vary: float) -> str:
    spellings = pool[index]
    if len(spellings) > 1 and rng.random() < vary:
        return spellings[int(rng.integers(1, len(spellings)))]
    return spellings[0]


def _family(pool, index: int, rng, vary: float) -> str:
    base = _spell(pool, index, rng, vary)
    if index in ARTICLE or index >= len(FAMILY):
        form = rng.random()
        if form < 0.45:
            return "al-" + base
        if form < 0.55:
            return "Al " + base
        if form < 0.6:
            return "el-" + base
    return base


def _quarter(index: int) -> str:
    """The name of neighbourhood ``index`` (0..319): 40 in each place, e.g. "Hay al-Zuhur 2"."""
    return f"Hay al-{QUARTERS[index % 20]} {(index // 20) % 2 + 1} ({PLACES[index // 40]})"


@validate_params(
    {
        "n_deaths": [Interval(Integral, 1, None)],
        "lists": [Interval(Integral, 2, 26)],
        "heterogeneity": [Interval(Real, 0, None)],
        "noise": [Interval(Real, 0, None)],
        "duplicates": [Interval(Real, 0, 1, closed="left")],
        "name_pool": [Options(("small", "large"))],
        "fields": [Options(("basic", "full"))],
        "id_share": [Interval(Real, 0, 1, closed="both")],
        "random_seed": [Seed()],
    },
    exempt=("capture",),  # one probability or one per list: checked in the body
)
def simulate_named_lists(n_deaths=500, lists=3, capture=None, *, heterogeneity=0.0, noise=1.0, duplicates=0.03,
                         name_pool="small", fields="basic", id_share=0.0, random_seed=None) -> SimulatedNamedLists:
    """Deaths with names, recorded on ``lists`` lists with transliteration variants, typos and duplicates.

    Each death gets a given name and a father's name from pools of common Arabic names (by sex; father's names
    male), a family name (Zipf-like frequencies, so a few families are common), sex (60% male), age (a mixture:
    children, adults, elderly), a date of death uniform over 2017, and one of eight places. List j captures
    each death with probability ``capture[j]``; with ``heterogeneity`` > 0 a person effect
    N(0, heterogeneity^2) is added on the logit scale of every list (catchable people are catchable on all
    lists: positive dependence between lists).

    Each record is written with noise (probabilities times ``noise``): another spelling of a name (30%), the
    family name with or without "al-"/"Al "/"el-", a typo in a name (a letter changed, dropped, swapped or
    doubled; 6% per name), the given and family names swapped (3%), the father's name missing (10%), the age
    missing (8%), off by one year (15%) or rounded to 5 (20%), the date missing (5%) or known only to the month
    (15%), the place missing (5%). A captured death is entered twice on the same list with probability
    ``duplicates`` (the copy written independently).

    The defaults (about 50 given names of each sex and 40 family names) make lists of a few thousand records;
    among hundreds of thousands the same three names recur by chance, and no pair of records can be told apart
    from strangers. Lists of that size carry more: ``name_pool="large"`` draws from about 160 male and 90
    female given names (with "Abd al-" compounds) and 140 family names, the commonest as frequent as before;
    ``fields="full"`` adds the grandfather's name (male pool) and the mother's name (female pool), as Iraqi,
    Syrian and Sudanese lists record them, and a neighbourhood (40 in each place); recorded with the noise
    above (another spelling, a typo at 6% per name), the grandfather's name missing in 15% of records, the
    mother's name in 30%, the neighbourhood in 10%. ``id_share`` is the share of records that carry the
    person's national id number (12 digits; one digit wrong in 2% of those).

    Parameters
    ----------
    n_deaths : int
        Size of the population (all deaths, listed or not).
    lists : int
        Number of lists, named ``"A"``, ``"B"``, ...
    capture : float or sequence of float, optional
        Each list's capture probability (one number for all); default from 0.55 down to 0.35.
    heterogeneity : float
        Standard deviation of the person effect on the logit scale (0: homogeneous).
    noise : float
        Multiplies every recording-error probability (0: clean records, only spelling variants of the article).
    duplicates : float
        Probability that a captured death is entered twice on a list.
    name_pool : {"small", "large"}
        The pools of names (see above); "large" for lists of tens of thousands of records or more.
    fields : {"basic", "full"}
        "full" adds the columns ``grandfather_name``, ``mother_name`` and ``neighbourhood``.
    id_share : float
        Share of records with a ``national_id`` (the column is present when ``id_share`` > 0).
    random_seed : int, numpy.random.Generator or None

    Returns
    -------
    SimulatedNamedLists

    Examples
    --------
    >>> from estimators.simulate import simulate_named_lists
    >>> sim = simulate_named_lists(200, random_seed=1)
    >>> sorted(sim.lists), sim.n_deaths
    (['A', 'B', 'C'], 200)
    >>> list(sim.lists["A"].columns)
    ['record_id', 'first_name', 'father_name', 'family_name', 'sex', 'age', 'date_of_death', 'place']
    """
    seed = resolve_seed(random_seed)
    rng = check_random_seed(seed)
    names = [chr(ord("A") + j) for j in range(lists)]
    if capture is None:
        probs = np.linspace(0.55, 0.35, lists)
    elif np.ndim(capture) == 0:
        probs = np.full(lists, float(capture))
    else:
        probs = np.asarray(capture, dtype=float)
        if probs.shape != (lists,) or np.any((probs <= 0) | (probs >= 1)):
            raise ValueError(f"`capture` must be one probability or {lists} probabilities in (0, 1); got {capture!r}.")
    n = int(n_deaths)
    male, female, families = ((MALE, FEMALE, FAMILY) if name_pool == "small"
                              else (MALE + MORE_MALE, FEMALE + MORE_FEMALE, FAMILY + MORE_FAMILY))
    full = fields == "full"
    sex = np.where(rng.random(n) < 0.6, "M", "F")
    zipf_family = 1.0 / np.arange(1, len(families) + 1) ** 0.8
    zipf_male = 1.0 / np.arange(1, len(male) + 1) ** 0.9
    zipf_female = 1.0 / np.arange(1, len(female) + 1) ** 0.7
    first = np.where(sex == "M", rng.choice(len(male), n, p=zipf_male / zipf_male.sum()),
                     rng.choice(len(female), n, p=zipf_female / zipf_female.sum()))
    father = rng.choice(len(male), n, p=zipf_male / zipf_male.sum())
    family = rng.choice(len(families), n, p=zipf_family / zipf_family.sum())
    group = rng.choice(3, n, p=[0.2, 0.6, 0.2])
    age = np.where(group == 0, rng.integers(0, 15, n),
                   np.where(group == 1, rng.integers(15, 60, n), rng.integers(60, 95, n)))
    day = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    place = rng.choice(len(PLACES), n)
    effect = rng.normal(0, heterogeneity, n) if heterogeneity > 0 else np.zeros(n)
    if full:
        grandfather = rng.choice(len(male), n, p=zipf_male / zipf_male.sum())
        mother = rng.choice(len(female), n, p=zipf_female / zipf_female.sum())
        quarter = place * 40 + rng.integers(0, 40, n)
    if id_share > 0:
        national = rng.integers(10**11, 10**12, n)
    logit = np.log(probs / (1 - probs))
    captured = rng.random((n, lists)) < 1 / (1 + np.exp(-(logit[None, :] + effect[:, None])))

    truth = pd.DataFrame({
        "true_id": np.arange(n),
        "first_name": [(male if s == "M" else female)[f][0] for s, f in zip(sex, first)],
        "father_name": [male[f][0] for f in father],
        "family_name": [families[f][0] for f in family],
        "sex": sex, "age": age, "date_of_death": day, "place": [PLACES[p] for p in place],
    })
    if full:
        truth["grandfather_name"] = [male[f][0] for f in grandfather]
        truth["mother_name"] = [female[f][0] for f in mother]
        truth["neighbourhood"] = [_quarter(q) for q in quarter]
    if id_share > 0:
        truth["national_id"] = national.astype(str)
    for j, name in enumerate(names):
        truth[name] = captured[:, j].astype(int)

    def p(x):
        return min(1.0, x * noise)

    out, ids = {}, {}
    for j, name in enumerate(names):
        people = np.flatnonzero(captured[:, j])
        twice = people[rng.random(len(people)) < duplicates]
        people = rng.permutation(np.concatenate([people, twice]))
        rows = []
        for person in people:
            pool = male if sex[person] == "M" else female
            given = _spell(pool, first[person], rng, 0.3)
            dad = _spell(male, father[person], rng, 0.3)
            fam = _family(families, family[person], rng, 0.3)
            given, dad, fam = (_typo(w, rng) if rng.random() < p(0.06) else w for w in (given, dad, fam))
            if rng.random() < p(0.03):
                given, fam = fam, given
            if rng.random() < p(0.10):
                dad = None
            a = float(age[person])
            if rng.random() < p(0.15):
                a = max(0.0, a + rng.choice([-1.0, 1.0]))
            if rng.random() < p(0.20):
                a = float(5 * round(a / 5))
            if rng.random() < p(0.08):
                a = np.nan
            d = day[person]
            u = rng.random()
            date = None if u < p(0.05) else d.strftime("%Y-%m") if u < p(0.20) else d.strftime("%Y-%m-%d")
            where = None if rng.random() < p(0.05) else PLACES[place[person]]
            row = [given, dad, fam, sex[person], a, date, where]
            if full:
                grand = _spell(male, grandfather[person], rng, 0.3)
                mum = _spell(female, mother[person], rng, 0.3)
                grand, mum = (_typo(w, rng) if rng.random() < p(0.06) else w for w in (grand, mum))
                row += [None if rng.random() < p(0.15) else grand, None if rng.random() < p(0.30) else mum,
                        None if rng.random() < p(0.10) else _quarter(quarter[person])]
            if id_share > 0:
                number = None
                if rng.random() < id_share:
                    number = str(national[person])
                    if rng.random() < p(0.02):
                        i = int(rng.integers(len(number)))
                        number = number[:i] + str(int(rng.integers(10))) + number[i + 1:]
                row.append(number)
            rows.append(tuple(row))
        columns = ["first_name", "father_name", "family_name", "sex", "age", "date_of_death", "place"]
        columns += ["grandfather_name", "mother_name", "neighbourhood"] if full else []
        columns += ["national_id"] if id_share > 0 else []
        frame = pd.DataFrame(rows, columns=columns)
        frame.insert(0, "record_id", [f"{name}{i:05d}" for i in range(len(frame))])
        out[name] = frame
        ids[name] = pd.Series(people, index=frame["record_id"].to_numpy(), name="true_id")
    settings = dict(n_deaths=n, lists=lists, capture=tuple(float(x) for x in probs), heterogeneity=heterogeneity,
                    noise=noise, duplicates=duplicates, name_pool=name_pool, fields=fields, id_share=float(id_share),
                    random_seed=seed)
    return SimulatedNamedLists(lists=out, true_ids=ids, truth=truth, n_deaths=n, settings=settings)

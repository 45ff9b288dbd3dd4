"""The demo's people (seed 7): households of Tel Kinamon in five languages, its squad and its
admin, all invented."""

from __future__ import annotations

import random
from typing import Any

Json = dict[str, Any]

HOUSE_PEOPLE = 310  # people living in the houses; the workers' quarters add 40


def _words(text: str) -> list[str]:
    return text.split()


HE_SURNAMES = _words(
    "Levi Cohen Mizrahi Peretz Biton Dahan Avraham Friedman Azoulay Malka Katz Shapiro Ben-David "
    "Golan Harel Carmeli Shalev Navon Almog Barak Segal Amar Ohana Gabay Ashkenazi Rosen Weiss "
    "Klein Sharabi Yosef Elbaz Vaknin Sasson Ben-Ami Hazan Kaplan Lerner Adler Meir Oren Dror "
    "Regev Shani Zohar Eshel Nahum Ben-Haim Alon Ziv Galili Sela Raz Lavi Gilad Hadar Yaron Nir "
    "Erez Paz Avni Doron Elkayam Maman Tzur Ben-Shimon Shitrit Abutbul Saban Toledano Edri "
    "Turgeman Hayun Malul Yehezkel Tzadok Kadosh Buzaglo Ben-Harush Amsalem Levin Rubin Stern "
    "Gold Schwartz Baruch Goldstein Horowitz Margalit Ronen Arbel Shaked Tamir Yardeni Kedem "
    "Peleg Rotem Ben-Tov Hasson Agmon Naor Gafni Elimelech"
)

NAMES: dict[str, dict[str, list[str]]] = {
    "he": {
        "surname": HE_SURNAMES,
        "m": _words(
            "Avi Moshe David Yossi Eitan Noam Amit Itai Yoav Omer Ariel Oren Gil Ronen Eyal Shai "
            "Nadav Tomer Ido Uri Yonatan Daniel Roi Erez Ofer Asaf Guy Elad Yair Amir Nir Alon"
        ),
        "f": _words(
            "Dana Michal Noa Shira Tamar Yael Maya Roni Hila Keren Liat Orly Sigal Merav Efrat "
            "Anat Galit Yifat Inbal Adi Neta Ayelet Limor Osnat Dafna Naama Talia Shani Avigail "
            "Hadas"
        ),
        "em": _words(
            "Shlomo Yaakov Meir Haim Baruch Tzvi Menachem Avraham Yitzhak Mordechai Eliyahu Shimon"
        ),
        "ef": _words("Rivka Sara Rachel Leah Miriam Ruth Esther Hana Tzipora Bella Aliza Shoshana"),
        "cm": _words("Ori Yuval Itamar Ofek Omri Lavi Harel Eyal Ido Nitai Ariel Yoav Amitai Erel"),
        "cf": _words(
            "Lia Agam Ella Romi Alma Eden Yahli Noga Gaya Shaked Tamar Hallel Ofri Maayan"
        ),
    },
    "ar": {
        "surname": _words(
            "Khoury Nasser Mansour Halabi Saleh Khatib Awad Hamdan Zidan Asadi Kassem Bishara Jaber"
        ),
        "m": _words(
            "Ahmad Mohammad Yousef Omar Khaled Samir Rami Fadi Nabil Karim Tarek Wasim Majd"
        ),
        "f": _words("Mariam Rania Lina Samira Huda Amal Nour Yasmin Reem Salma Dina Hala Maysa"),
        "em": _words("Ibrahim Mahmoud Hassan Saleem Jamil Fuad"),
        "ef": _words("Aisha Khadija Amina Zeinab Najwa Fatima"),
        "cm": _words("Adam Rayan Ali Hamza Jad Sami Elias"),
        "cf": _words("Jana Lana Sara Layan Tala Celine Maya"),
    },
    "en": {
        "surname": _words(
            "Miller Goldberg Stein Robinson Green Fisher Walker Bennett Marks Harris Gordon Jacobs "
            "Sherman"
        ),
        "m": _words("David Michael Jonathan Daniel Benjamin Aaron Joshua Samuel Nathan Adam Ethan"),
        "f": _words("Sarah Rachel Emily Hannah Rebecca Abigail Naomi Julia Jessica Chloe Zoe"),
        "em": _words("Harold Bernard Stanley Arthur Leonard Howard"),
        "ef": _words("Margaret Dorothy Joan Shirley Barbara Evelyn"),
        "cm": _words("Noah Eli Jacob Max Toby Sam Gabriel"),
        "cf": _words("Ava Lily Mia Ruby Abby Grace Ellie"),
    },
}

THAI_GIVEN = _words(
    "Somchai Somsak Prasert Anan Wichai Surachai Kittisak Chaiwat Sombat Thongchai Boonmee Narong "
    "Pichit Sakda Manop Suchart Wirat Adisak Kriangsak Nattapong Sarawut Teerapong Yutthana "
    "Apichat Weerachai Jirayu Phongsak Malee Siriporn Nittaya"
)
THAI_SURNAMES = _words(
    "Srisuk Wongsa Boonyarat Phromma Saetang Kaewkham Thongdee Sukjai Inthong Chaisri Phanthong "
    "Siriwat Ruangrit Saengchan Bunma Kongkaew Yodsiri Namwong Jaidee Sombun Thepsiri Chanthara "
    "Promsri Kaewmanee Suwannarat Phumphuang Intharak Wongchai Saelim Rattanakorn Khamphan"
)
NEPALI_GIVEN = _words(
    "Ram-Bahadur Hari Krishna Bishnu Suman Dipak Prakash Santosh Bikash Rajesh Sunil Ramesh Binod "
    "Kamal Gopal Dinesh Mohan Nabin Sagar Anil"
)
NEPALI_SURNAMES = _words(
    "Gurung Tamang Magar Rai Thapa Shrestha Adhikari Karki Limbu Sherpa Bhandari Poudel Khadka "
    "Basnet"
)

Slot = tuple[str, str]  # (age_group, sex)

TEMPLATES: list[tuple[str, int]] = [
    ("single_adult", 12),
    ("single_elderly", 10),
    ("couple", 18),
    ("elderly_couple", 18),
    ("family", 30),
    ("single_parent", 5),
    ("three_generations", 7),
]


PARENTS = ("family", "single_parent", "three_generations")
WORKER_MIX = {
    "W1": ["th"] * 11,
    "W2": ["th"] * 10,
    "W3": ["ne"] * 10,
    "W4": ["th"] * 5 + ["ne"] * 4,
}
# language, sex (None: either), roles, title
CAST: list[tuple[str, str | None, list[str], str]] = [
    ("he", "m", ["commander", "responder"], "Squad leader"),
    ("he", "m", ["commander", "responder"], "Deputy squad leader"),
    ("he", "f", ["medic", "responder"], "Village nurse"),
    ("he", None, ["operator", "responder"], "War room operator"),
    ("ar", "m", ["responder"], "Squad member"),
    ("en", None, ["responder"], "Squad member"),
    *[("he", None, ["responder"], "Squad member")] * 6,
]


def household_slots(rng: random.Random, template: str) -> list[Slot]:
    def child() -> Slot:
        return ("child", rng.choice("mf"))

    if template == "single_adult":
        return [("adult", rng.choice("mf"))]
    if template == "single_elderly":
        return [("elderly", rng.choice("mf"))]
    if template == "couple":
        return [("adult", "m"), ("adult", "f")]
    if template == "elderly_couple":
        return [("elderly", "m"), ("elderly", "f")]
    if template == "family":
        slots = [("adult", "m"), ("adult", "f")] + [child() for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            slots.append(("infant", rng.choice("mf")))
        return slots
    if template == "single_parent":
        return [("adult", "f" if rng.random() < 0.8 else "m")] + [
            child() for _ in range(rng.randint(1, 2))
        ]
    # three generations
    kids = [child() for _ in range(rng.randint(1, 2))]
    return [("adult", "m"), ("adult", "f"), ("elderly", rng.choice("mf")), *kids]


def special_needs(rng: random.Random, age_group: str) -> list[str]:
    odds = {
        "elderly": (("mobility", 0.3), ("hearing", 0.15), ("medical", 0.15)),
        "adult": (("mobility", 0.02), ("medical", 0.03), ("hearing", 0.01)),
        "child": (("medical", 0.03),),
        "infant": (),
    }[age_group]
    return [need for need, p in odds if rng.random() < p]


class Phones:
    """Unique invented numbers in +97250555xxxx."""

    def __init__(self, rng: random.Random) -> None:
        self._pool = list(range(10000))
        rng.shuffle(self._pool)

    def take(self) -> str:
        return f"+97250555{self._pool.pop():04d}"


def member_languages(group: str, bilingual: bool, age_group: str) -> list[str]:
    if group == "he":
        return ["he"]
    if age_group == "child":
        return [group, "he"] if group == "ar" or bilingual else [group]
    if age_group == "elderly":
        return [group]
    return [group, "he"] if bilingual else [group]


class Census:
    """Invents the village's people from one random stream, in a fixed order (the shipped file
    is reproducible byte for byte): households, workers, then the squad cast from them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones = Phones(rng)
        self.used_names: set[str] = set()
        self.sexes: dict[str, str] = {}  # person ref -> sex, used only to cast the responders

    def pick_name(self, pool: list[str], surname: str) -> str:
        for _ in range(200):
            name = f"{self.rng.choice(pool)} {surname}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError(f"no free name for {surname}")

    def compositions(self, groups: list[str]) -> list[tuple[str, str, list[Slot]]]:
        """(language group, template, slots) per house, HOUSE_PEOPLE people in all."""
        template_names = [t for t, _ in TEMPLATES]
        weights = [w for _, w in TEMPLATES]
        plans: list[tuple[str, str, list[Slot]]] = []
        for group in groups:
            template = self.rng.choices(template_names, weights)[0]
            plans.append((group, template, household_slots(self.rng, template)))
        self.fit_population(plans)
        return plans

    def fit_population(self, plans: list[tuple[str, str, list[Slot]]]) -> None:
        """Bring the house population to exactly HOUSE_PEOPLE by removing or adding children."""
        rng = self.rng
        total = sum(len(s) for _, _, s in plans)
        while total > HOUSE_PEOPLE:
            many = [s for _, _, s in plans if sum(1 for a, _ in s if a == "child") >= 2]
            slots = rng.choice(many)
            slots.remove(next(x for x in reversed(slots) if x[0] == "child"))
            total -= 1
        while total < HOUSE_PEOPLE:
            parents = [s for _, t, s in plans if t in PARENTS]
            slots = rng.choice(parents)
            at = next((i for i, x in enumerate(slots) if x[0] == "infant"), len(slots))
            slots.insert(at, ("child", rng.choice("mf")))
            total += 1

    def families(self, house_refs: list[str]) -> list[Json]:
        """One household per house: 96 Hebrew-, 12 Arabic- and 12 English-speaking."""
        rng = self.rng
        groups = ["he"] * 96 + ["ar"] * 12 + ["en"] * 12
        rng.shuffle(groups)
        plans = self.compositions(groups)
        surnames = {g: rng.sample(NAMES[g]["surname"], groups.count(g)) for g in ("he", "ar", "en")}
        bilingual = {"ar": [True] * 8 + [False] * 4, "en": [True] * 8 + [False] * 4}
        bilingual["he"] = [True] * 96
        for g in ("ar", "en"):
            rng.shuffle(bilingual[g])
        counters = {"he": 0, "ar": 0, "en": 0}
        households: list[Json] = []
        for ref, (group, _template, slots) in zip(house_refs, plans, strict=True):
            k = counters[group]
            counters[group] += 1
            family = (group, surnames[group][k], bilingual[group][k])
            households.append(self.family(ref, family, slots))
        return households

    def family(self, ref: str, family: tuple[str, str, bool], slots: list[Slot]) -> Json:
        group, surname, both = family
        members = [
            self.member(f"p-{ref}-{i}", group, surname, both, slot)
            for i, slot in enumerate(slots, start=1)
        ]
        languages = list(dict.fromkeys(lang for m in members for lang in m["languages"]))
        safe_room = self.rng.choices(["in_home", "shared_shelter", "none"], [70, 25, 5])[0]
        return {
            "ref": f"h-{ref}",
            "building_ref": ref,
            "name": f"{surname} family",
            "languages": languages,
            "safe_room": safe_room,
            "members": members,
        }

    def member(self, person_ref: str, group: str, surname: str, both: bool, slot: Slot) -> Json:
        age_group, sex = slot
        pool_key = {"adult": sex, "elderly": "e" + sex, "child": "c" + sex, "infant": "c" + sex}
        self.sexes[person_ref] = sex
        has_phone = age_group in ("adult", "elderly") or (
            age_group == "child" and self.rng.random() < 0.5
        )
        return {
            "ref": person_ref,
            "name": self.pick_name(NAMES[group][pool_key[age_group]], surname),
            "age_group": age_group,
            "phone": self.phones.take() if has_phone else None,
            "languages": member_languages(group, both, age_group),
            "special_needs": special_needs(self.rng, age_group),
        }

    def workers(self) -> list[Json]:
        """Workers' quarters: group households of Thai and Nepali agricultural workers."""
        thai_surnames = self.rng.sample(THAI_SURNAMES, len(THAI_SURNAMES))
        households = []
        for building, langs in WORKER_MIX.items():
            members = [
                self.worker(f"p-{building}-{i}", lang, thai_surnames, foreman=i == 1)
                for i, lang in enumerate(langs, start=1)
            ]
            households.append(
                {
                    "ref": f"h-{building}",
                    "building_ref": building,
                    "name": f"Workers' quarters {building}",
                    "languages": list(dict.fromkeys(langs)),
                    "safe_room": "shared_shelter",
                    "members": members,
                    "foreman": f"p-{building}-1",
                }
            )
        return households

    def worker(self, person_ref: str, lang: str, thai_surnames: list[str], foreman: bool) -> Json:
        """A worker; the foreman (the first) also reads Hebrew (Thai) or English (Nepali)."""
        if lang == "th":
            name = self.pick_name(THAI_GIVEN, thai_surnames.pop())
        else:
            surname = self.rng.choice(NEPALI_SURNAMES)
            name = self.pick_name(NEPALI_GIVEN, surname).replace("-", " ")
        extra = (["he"] if lang == "th" else ["en"]) if foreman else []
        return {
            "ref": person_ref,
            "name": name,
            "age_group": "adult",
            "phone": self.phones.take(),
            "languages": [lang, *extra],
            "special_needs": special_needs(self.rng, "adult"),
        }

    def squad(self, houses: list[Json]) -> tuple[list[Json], list[Json]]:
        """The responders and the admin, each an adult of a different house."""
        used: set[str] = set()

        def cast(lang: str, sex: str | None) -> tuple[Json, Json]:
            options = [
                (h, m)
                for h in houses
                if h["ref"] not in used and h["languages"][0] == lang
                for m in h["members"]
                if m["age_group"] == "adult" and (sex is None or self.sexes[m["ref"]] == sex)
            ]
            h, m = self.rng.choice(options)
            used.add(h["ref"])
            return h, m

        responders = []
        for n, (lang, wanted, roles, title) in enumerate(CAST, start=1):
            h, m = cast(lang, wanted)
            extra = {"callsign": f"Kinamon {n}", "roles": roles, "title": title}
            responders.append(_staff(f"r-{n}", h, m, extra))
        h, m = cast("he", None)
        admin = _staff("adm-1", h, m, {"roles": ["admin"], "title": "Security coordinator"})
        return responders, [admin]


def _staff(ref: str, household: Json, member: Json, role: Json) -> Json:
    return {
        "ref": ref,
        "name": member["name"],
        **role,
        "phone": member["phone"],
        "languages": member["languages"],
        "household_ref": household["ref"],
        "person_ref": member["ref"],
    }


def build_residents(rng: random.Random, house_refs: list[str]) -> Json:
    census = Census(rng)
    households = census.families(house_refs)
    houses = list(households)
    households += census.workers()
    responders, admins = census.squad(houses)
    return {"households": households, "responders": responders, "admins": admins}

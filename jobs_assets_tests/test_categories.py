"""`category_normalised`: one vocabulary for every source, mapped by data/categories.csv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import jobs_assets
from jobs_assets.lib.normalise.categories import (
    OTHER,
    VOCABULARY,
    categorise,
    category_from_values,
    humanise,
    normalise_category,
    unknown_categories,
)

PACKAGE = Path(jobs_assets.__file__).parent
FIXTURES = PACKAGE / "replay_fixtures"
TAGS = Path(__file__).parent / "data" / "fixture_tags.json"


def _csv_rows() -> list[dict[str, str]]:
    with (PACKAGE / "data" / "categories.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Software Development", "Software Development"),  # Remotive
        ("Sales / Business", "Sales"),
        ("Customer Service", "Customer Support"),
        ("All others", OTHER),
        ("writing", "Writing & Content"),  # any case
        ("Programming", "Software Development"),  # Jobicy
        ("Customer Success", "Customer Support"),
        ("Developer", "Software Development"),  # Himalayas parent category
        ("Feedback-Specialist", "Data & Analytics"),  # Himalayas slug, humanised
        ("Senior-Frontend-Engineer-(Angular)", "Software Development"),
        ("Talent_Acquisition", "Human Resources"),
        # not in the table: a word rule decides
        ("Senior-Backend-Engineer", "Software Development"),
        ("Senior Data Engineer", "Data & Analytics"),
        ("Product Designer", "Design"),
        ("Financial Analyst", "Finance & Legal"),
        ("Director of Nursing", "Healthcare"),
        # nothing known
        ("Zookeeper", OTHER),
        ("", OTHER),
        ("   ", OTHER),
        (None, OTHER),
        ("senior", OTHER),  # a neutral tag names no category
    ],
)
def test_normalise_category(value: str | None, expected: str) -> None:
    assert normalise_category(value) == expected


def test_humanise_slugs() -> None:
    assert humanise("Feedback-Specialist") == "feedback specialist"
    assert humanise("  Senior--Front-End_Developer ") == "senior front end developer"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["senior", "Remote", "python", "marketing"], "Software Development"),
        (["Team Leader", "Online Marketing"], "Marketing"),
        (["other", "crypto", "finance"], "Finance & Legal"),  # Other is a last resort
        (["other", "crypto"], OTHER),
        ([], OTHER),
        (None, OTHER),
    ],
)
def test_category_from_tags(tags: list[str] | None, expected: str) -> None:
    assert category_from_values(tags) == expected


def test_unknown_categories_are_counted_for_the_report() -> None:
    values = ["Zookeeper", "Marketing", "Zookeeper", None, "", "Lighthouse keeper"]
    assert unknown_categories(values) == {"Zookeeper": 2, "Lighthouse keeper": 1}


def test_the_table_uses_only_the_vocabulary_and_maps_each_value_once() -> None:
    rows = _csv_rows()
    assert {row["category_normalised"] for row in rows} <= set(VOCABULARY) | {""}
    assert {row["match"] for row in rows} == {"exact", "word", "stem"}
    exact = [humanise(row["source_value"]) for row in rows if row["match"] == "exact"]
    assert len(exact) == len(set(exact))


def _fixture_values() -> dict[str, set[str]]:
    """Every category value in the recorded fixtures, by where it came from."""
    found: dict[str, set[str]] = {
        "single": set(),  # one value per listing: must name a category
        "tags": set(),  # tag lists: may be neutral
    }
    for path in sorted(FIXTURES.glob("remotive*.json")):
        found["single"] |= {j["category"] for j in json.loads(path.read_text())["jobs"]}
    for path in sorted(FIXTURES.glob("jobicy*.json")):
        for job in json.loads(path.read_text())["jobs"]:
            industry = job.get("jobIndustry")
            found["single"] |= set(industry if isinstance(industry, list) else [industry])
    for path in sorted(FIXTURES.glob("himalayas*.json")):
        for job in json.loads(path.read_text())["jobs"]:
            found["single"] |= set(job.get("parentCategories") or [])
            found["single"] |= set(job.get("categories") or [])
    tags = json.loads(TAGS.read_text(encoding="utf-8"))
    for source in ("remoteok", "arbeitnow"):
        found["tags"] |= {tag for job_tags in tags[source] for tag in job_tags}
    return found


def test_every_fixture_category_is_in_the_table() -> None:
    values = _fixture_values()
    assert len(values["single"]) > 30 and len(values["tags"]) > 200
    every = values["single"] | values["tags"]
    assert unknown_categories(every) == {}
    explicit = {
        humanise(row["source_value"]): row["category_normalised"]
        for row in _csv_rows()
        if row["match"] == "exact"
    }
    # Exact rows, not word rules, cover the recorded values.
    assert {humanise(v) for v in every} <= explicit.keys()
    # A category value maps to a real category unless the table says Other outright;
    # Remotive's "All others" says nothing of the job: neutral, the title and tags decide
    for value in values["single"]:
        assert explicit[humanise(value)] != "" or humanise(value) == "all others", value
        if normalise_category(value) == OTHER and humanise(value) != "all others":
            assert explicit[humanise(value)] == OTHER, value
    genuinely_other = sorted(v for v in every if explicit[humanise(v)] == OTHER)
    print("mapped to Other on purpose:", genuinely_other)
    assert set(genuinely_other) == {
        "Automotive Engineering",
        "Building",
        "Inspection",
        "Safety Services Engineering",
        "other",
    }


def test_most_tagged_fixture_listings_get_a_category() -> None:
    tags = json.loads(TAGS.read_text(encoding="utf-8"))
    for source in ("remoteok", "arbeitnow"):
        tagged = [job_tags for job_tags in tags[source] if job_tags]
        named = [t for t in tagged if category_from_values(t) != OTHER]
        print(source, f"{len(named)}/{len(tagged)} tagged listings get a category")
        assert len(named) >= 0.8 * len(tagged)


# One category from all a listing says (issue 28): title, source category and all tags.
@pytest.mark.parametrize(
    ("category", "tags", "title", "expected"),
    [
        # RemoteOK's first tag no longer wins alone
        (
            None,
            ["software", "education", "growth", "marketing", "sales"],
            "Sales Executive",
            "Sales",
        ),
        (None, ["support", "medical", "health", "healthcare"], "Telehealth Nurse", "Healthcare"),
        (None, ["support", "medical", "health", "healthcare"], None, "Healthcare"),
        # values that landed in Other or the wrong class
        (None, ["Compensation and Benefits"], None, "Human Resources"),  # Arbeitnow
        ("Artificial Intelligence", [], None, "Data & Analytics"),  # Remotive
        (None, ["training", "transcription", "test", "voice", "speech"], None, "Writing & Content"),
        (None, ["biotech"], None, "Healthcare"),
        # the title names the job; the source category is the team or the industry
        (
            "Software Development",
            ["backend", "frontend"],
            "Senior DevOps Engineer (AWS)",
            "DevOps & Infrastructure",
        ),
        (
            "Health",
            ["Wellness-And-Fitness"],
            "Python Developer - Data Integration",
            "Software Development",
        ),
        ("Marketing", [], "Office Assistant", "Operations"),
        # specific phrases before general words; German compounds by their stem
        (None, [], "Senior Sales Engineer Majors West", "Sales"),
        (None, [], "Product Marketing Manager", "Marketing"),
        (None, [], "Brand Copywriter", "Writing & Content"),
        (None, ["Finance"], "Finanzbuchhalter (m/w/d)", "Finance & Legal"),
        (
            None,
            [],
            "Softwareentwickler Testautomatisierung (m/w/d) Embedded",
            "Software Development",
        ),
        (
            None,
            ["Directors", "Chief Executives"],
            "Steuerberater (m/w/d) in Unna",
            "Finance & Legal",
        ),
        (None, ["Finance"], "Vertriebspartner", "Sales"),  # Vertrieb = sales
        (
            None,
            ["Remote", "Credit Analysis"],
            "Bankkaufmann/-frau als Kreditspezialist",
            "Finance & Legal",
        ),
        (None, [], "Assistenzarzt Innere Medizin", "Healthcare"),  # arzt before assistenz
        (None, [], "Ingenieur Steuerungstechnik (m/w/d)", OTHER),  # control engineering, no tax
        # pay in a title is not a role (`$40/hr` is no HR)
        ("Extracurricular", [], "Remote Architecture Tutor Earn Up to $40/hr", "Education"),
        # the source category still decides when the title says nothing
        ("Customer Service", [], "Bilingual Account Specialist", "Customer Support"),
        (None, [], "Zookeeper", OTHER),
        (None, None, None, OTHER),
    ],
)
def test_categorise_weighs_title_category_and_all_tags(
    category: str | None, tags: list[str] | None, title: str | None, expected: str
) -> None:
    assert categorise(category, tags, title) == expected


# Which row decides a title: the head (the role) outranks a qualifier after a comma, dash,
# bracket or `for`/`at`/`in`, unless the head names only a generic role (`engineer`,
# `analyst`, `technician`); within one part the longer phrase, then a specific word, wins.
@pytest.mark.parametrize(
    ("title", "expected"),
    [
        # found in review: the first row in file order used to win
        ("Software Engineer, Customer Experience", "Software Development"),  # was Support
        ("Curriculum Developer", "Education"),  # was Software Development
        ("Data Protection Officer", "Finance & Legal"),  # was Data & Analytics
        ("Research Scientist, Speech", "Data & Analytics"),  # was Writing & Content
        ("Help Desk Technician", "Customer Support"),  # was Other
        # the same rules on titles nobody checked before
        ("Senior Backend Engineer, Payments", "Software Development"),
        ("Senior Software Engineer for Customer Experience", "Software Development"),
        ("Customer Experience Manager, Software", "Customer Support"),
        ("Product Designer, Growth", "Design"),
        ("Research Engineer, Speech Recognition", "Data & Analytics"),
        ("Registered Dietitian - Telehealth", "Healthcare"),
        ("Head of Engineering", "Software Development"),
        ("Senior Manager, Customer Success", "Customer Support"),  # the head names nothing
        ("Staff Engineer, Machine Learning", "Data & Analytics"),  # a generic head
        ("Senior Analyst, IT SOX PMO", "Finance & Legal"),
        ("Pharmacy Technician", "Healthcare"),  # a domain word before a generic role
        ("Veterinary Technician", "Healthcare"),
        ("Speech-Language Pathologist", "Healthcare"),  # a phrase before `speech`
        ("Instructional Designer", "Education"),
        ("Business Developer DACH", "Sales"),
        ("Nurse Recruiter", "Human Resources"),
        ("Sales Engineer, Security", "Sales"),
        ("Werkstudent Kundenservice", "Customer Support"),
    ],
)
def test_the_head_of_a_title_and_the_most_specific_phrase_decide(title: str, expected: str) -> None:
    assert categorise(None, [], title) == expected


# Professions that used to land in Other.
@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Psychologist", "Healthcare"),
        ("Dentist", "Healthcare"),
        ("Veterinarian", "Healthcare"),
        ("Dietitian", "Healthcare"),
        ("Caregiver", "Healthcare"),
        ("CTO", "Software Development"),
        ("CEO", "Operations"),  # as the `ceo` tag
        ("Penetration Tester", "DevOps & Infrastructure"),  # security sits there
        ("Underwriter", "Finance & Legal"),
        ("Loan Officer", "Finance & Legal"),
        ("Actuary", "Finance & Legal"),
        ("Kundenberater", "Customer Support"),
        ("Scrum Master", "Product"),  # as the `scrum` tag
        # similar, not seen before
        ("Pediatric Nurse", "Healthcare"),
        ("Clinical Psychologist", "Healthcare"),
        ("Home Caregiver", "Healthcare"),
        ("Physiotherapeut (m/w/d)", "Healthcare"),
        ("Chief Technology Officer", "Software Development"),
        ("Geschäftsführer (m/w/d)", "Operations"),
        ("Ethical Hacker / Pentester", "DevOps & Infrastructure"),
        ("Mortgage Underwriter", "Finance & Legal"),
        ("Actuarial Analyst", "Finance & Legal"),
        ("Privacy Officer (GDPR)", "Finance & Legal"),
        ("Datenschutzbeauftragter (m/w/d)", "Finance & Legal"),
        ("Kundenberaterin (m/w/d)", "Customer Support"),
        ("Service Desk Analyst", "Customer Support"),  # as `help desk`
        ("Agile Coach", "Product"),
    ],
)
def test_professions_the_vocabulary_lacked(title: str, expected: str) -> None:
    assert categorise(None, [], title) == expected
    assert unknown_categories([title]) == {}


@pytest.mark.parametrize(
    ("category", "tags", "title", "expected"),
    [
        # a role's noun beats the area it serves, whatever the rows' order in the file
        (None, [], "Sr. Marketing Designer", "Design"),
        (None, [], "Brand Designer", "Design"),
        (None, [], "Sales Recruiter", "Human Resources"),
        (None, [], "Remote Finance Tutor", "Education"),
        (None, [], "Marketing Writer", "Writing & Content"),
        (None, [], "Sales Trainer", "Education"),
        (None, [], "Marketing Manager", "Marketing"),  # a generic role: the area decides
        (None, [], "Sales Engineer", "Sales"),
        # a support engineer supports customers
        (None, [], "Support Engineer (AMER)", "Customer Support"),
        ("Customer Service", [], "Application Support Engineer", "Customer Support"),
        # Remotive's "All others" says nothing: the title and tags decide
        ("All others", ["python", "sql", "tableau"], "", "Data & Analytics"),
        ("All others", ["statistics", "sas", "biotech"], "Biostatistician", "Healthcare"),
        # payroll pays people, though its German words hold the accountant's
        (None, [], "Lohn- und Gehaltsbuchhalter (m/w/d)", "Human Resources"),
        (None, [], "Entgeltabrechner (m/w/d)", "Human Resources"),
        (None, [], "Personalsachbearbeiter (m/w/d)", "Human Resources"),
        (None, [], "Finanzbuchhalter (m/w/d)", "Finance & Legal"),
        # the boards' other languages, and roles the vocabulary lacked
        (None, [], "Projektleiter (m/w/d)", "Operations"),
        (None, [], "Medizinische Fachangestellte (m/w/d)", "Healthcare"),
        (None, [], "Werkstudent Softwareentwicklung", "Software Development"),
        (None, [], "Comptable (H/F)", "Finance & Legal"),
        (None, [], "Chargé de recrutement", "Human Resources"),
        (None, [], "Ingeniero de Datos", "Data & Analytics"),
        (None, [], "Atención al Cliente", "Customer Support"),
        (None, [], "Profesor de Inglés", "Education"),
        (None, [], "Proofreader", "Writing & Content"),
        (None, [], "Chief of Staff", "Operations"),
        (None, [], "Client Services Manager", "Customer Support"),
    ],
)  # fmt: skip
def test_misreads_a_probe_of_real_titles_found(
    category: str | None, tags: list[str], title: str, expected: str
) -> None:
    assert categorise(category, tags, title) == expected


@pytest.mark.parametrize(
    ("category", "tags", "title", "expected"),
    [
        # a review of 239 real listings never seen (2026-12-07; BENCHMARKS.md): each
        # class it found wrong, as the board sent it
        # a topic in the title is not the job
        (None, [], "Finance Industry Event Volunteer", "Operations"),
        ("Product & Operations", [], "Product Director – Health Insurance (Fully Remote)",
         "Product"),
        # German engineering that is no software
        ("Power Engineering and Environmental Engineering",
         ["Power Engineering and Environmental Engineering"], "Energieberater (m/w/d)", "Other"),
        ("Engineering", ["Engineering"], "Elektronikentwickler/in (m/w/d)", "Other"),
        ("Engineering", ["Engineering"], "Qualitätsmanager:in", "Operations"),
        # IT support is infrastructure, as the labelled set says ("Tier 3 IT Support Engineer")
        ("Helpdesk", ["Helpdesk"], "IT Support Specialist (1st/2nd Level)",
         "DevOps & Infrastructure"),
        ("Information Technology", ["helpdesk"], "Tier III Service Desk Engineer",
         "DevOps & Infrastructure"),
        # a phrase of the job beats a word elsewhere in it
        ("Product & Operations", [], "(Junior) Contract Administrator (local remote)",
         "Finance & Legal"),
        ("Medical", ["accounting", "excel"], "Assistant Account Payable", "Finance & Legal"),
        ("Creative & Design", [], "Procure To Pay Specialist – Domain Trainee", "Finance & Legal"),
        ("Technical Support", [], "Sr. Technical Success Engineer", "Customer Support"),
        ("Data Analysis", [], "Demand Planner", "Operations"),
        ("Social Media Manager", ["Social Media Manager"],
         "Social Media Designer:in / Grafiker:in (m/w/d)", "Design"),
        ("Software Engineering", [], "Principal Salesforce Engineer (Sales Cloud) REMOTE",
         "Software Development"),
        # "personalized" is no German "Personal" (staff)
        ("Remote", ["Remote", "IT"], "Personalized Internet Ads Assessor",
         "DevOps & Infrastructure"),
        # a second review, of 360 (2026-12-08): role phrases the table lacked
        ("Paid-Media-Manager", ["Paid-Media-Manager"], "Paid Media Manager - Remote/Worldwide",
         "Marketing"),
        ("Amazon-Advertising-Specialist", [], "Amazon PPC Advertising Strategist", "Marketing"),
        ("manager", ["manager", "saas", "security", "technical"],
         "Channel Manager Team Lead United States", "Sales"),
        ("Remote", ["Remote", "Business Analyst"], "Werkstudent*in M&A Analyst",
         "Finance & Legal"),
        ("Freelance-Photo-Editor", [], "Photo Editor (Women's Apparel) - Freelance", "Design"),
        ("QA", [], "Contact Center QA Specialist", "Customer Support"),
        ("Ingeniero-Comercial", [], "ASESOR COMERCIAL ASFALTOS", "Sales"),
        ("Marketing and Communication", [], "Founder’s Associate (GTM/Growth) - Internship",
         "Operations"),
        # a dash with a space after it ends the role ("Manager- Mortgage")
        ("Sales", [], "Remote Consumer Direct Sales Manager- Mortgage", "Sales"),
        (None, [], "Account Manager- Healthcare", "Sales"),
    ],
)  # fmt: skip
def test_classes_a_review_of_listings_never_seen_found_wrong(
    category: str | None, tags: list[str], title: str, expected: str
) -> None:
    assert categorise(category, tags, title) == expected


def test_the_table_weights_are_numbers_and_noisy_tags_weigh_little() -> None:
    rows = _csv_rows()
    assert {row["match"] for row in rows} == {"exact", "word", "stem"}
    weights = {
        humanise(r["source_value"]): float(r["weight"] or 1) for r in rows if r["match"] == "exact"
    }
    assert all(0 < w <= 3 for w in weights.values())
    # RemoteOK derives these from the description: weaker than a decisive tag
    assert weights["support"] < weights["customer support"]
    assert weights["software"] < weights["backend"]


LABELS = Path(__file__).parent / "data" / "category_labels.csv"


def test_labelled_real_listings_are_categorised_at_least_97_percent_right() -> None:
    """Real listings (RemoteOK, Arbeitnow, Himalayas, Remotive, Jobicy), labelled by
    hand, each with a one-line reason (`data/category_labels.csv`)."""
    with LABELS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 150
    assert {row["source"] for row in rows} == {
        "remoteok",
        "arbeitnow",
        "himalayas",
        "remotive",
        "jobicy",
    }
    assert all(row["label"] in VOCABULARY and row["reason"].strip() for row in rows)
    wrong = [
        (row["title"], row["label"], got)
        for row in rows
        if (
            got := categorise(
                row["category"] or None, row["tags"].split("|") if row["tags"] else [], row["title"]
            )
        )
        != row["label"]
    ]
    accuracy = 1 - len(wrong) / len(rows)
    print(f"categories: {accuracy:.3f} of {len(rows)} labelled listings right; wrong: {wrong}")
    assert accuracy >= 0.97, wrong


@pytest.mark.parametrize(
    ("tags", "title", "expected"),
    [
        (["c++"], None, "Software Development"),
        ([".net"], None, "Software Development"),
        (["ruby on rails"], None, "Software Development"),
        (["rust"], "Rust Engineer", "Software Development"),
        (["llm", "nlp"], None, "Data & Analytics"),
        (["computer vision"], None, "Data & Analytics"),
        (["tableau", "power bi"], None, "Data & Analytics"),
        (["figma"], None, "Design"),
        (["pharma"], None, "Healthcare"),
        (["bookkeeping"], None, "Finance & Legal"),
        ([], "Datenanalyst (m/w/d)", "Data & Analytics"),
        ([], "Ingénieur logiciel", "Software Development"),
    ],
)
def test_tools_and_titles_the_vocabulary_lacked(
    tags: list[str], title: str | None, expected: str
) -> None:
    assert categorise(None, tags, title) == expected

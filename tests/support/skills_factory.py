"""A small, real-looking ESCO skill catalog and a real engine over it (packaged MiniLM)."""

from __future__ import annotations

from features.domain import Skill, SkillType
from inference.skills.catalog import SkillCatalog
from inference.skills.encoder import TextEncoder
from inference.skills.engine import EngineConfig, SkillEngine
from inference.skills.index import SkillIndex

SKILLS: list[tuple[str, tuple[str, ...], str]] = [
    ("Python (computer programming)", ("Python",),
     "Techniques of software development in Python: analysis, algorithms, coding, testing."),
    ("SQL", ("structured query language",), "The computer language SQL for querying databases."),
    ("JavaScript", ("JS",), "Techniques of software development in JavaScript."),
    ("Java (computer programming)", ("Java",), "Software development in Java."),
    ("communicate with stakeholders", ("stakeholder communication", "liaise with stakeholders"),
     "Keep stakeholders informed and engaged through clear communication."),
    ("manage a team", ("team management", "lead a team", "supervise staff"),
     "Lead, motivate and coordinate the members of a team."),
    ("project management", ("manage projects", "run projects"),
     "Plan, organise and control resources to deliver a project on time and budget."),
    ("negotiate contracts", ("contract negotiation",), "Negotiate terms of agreements."),
    ("public speaking", ("give presentations", "present in public"),
     "Speak to an audience in a structured, deliberate manner."),
    ("financial analysis", ("analyse financial statements",),
     "Analyse the financial situation of a company using statements and reports."),
    ("machine learning", ("ML", "statistical learning"),
     "Methods that let computer systems learn patterns from data."),
    ("cloud technologies", ("cloud computing", "AWS"),
     "Technologies that enable access to hardware and software through remote servers."),
    ("customer service", ("serve customers", "client service"),
     "Processes and principles related to serving customers."),
    ("bookkeeping", ("keep books", "record financial transactions"),
     "Record the financial transactions of an organisation."),
    ("time management", ("manage time", "prioritise tasks"),
     "Plan the temporal sequence of tasks and manage deadlines."),
    ("write reports", ("report writing", "draft reports"),
     "Compose clear written reports of work and findings."),
    ("coach employees", ("mentor staff", "coaching"),
     "Maintain and improve employees' performance by coaching them."),
    ("data analysis", ("analyse data", "data analytics"),
     "Collect and inspect data to find useful information and support decisions."),
    ("software testing", ("test software", "QA testing"),
     "Check that software behaves as specified and find defects."),
    ("conflict management", ("resolve conflicts", "handle disputes"),
     "Handle complaints and disputes with empathy and understanding."),
    ("cook meals", ("prepare food",), "Prepare dishes from raw ingredients."),
    ("drive vehicles", ("drive",), "Be able to drive vehicles."),
    ("sell products", ("sales",), "Sell goods to customers by identifying their needs."),
    ("translate texts", ("translation",), "Translate texts from one language into another."),
    # technology look-alikes and the skills products stand for (inference/skills/technology.py)
    ("computational fluid dynamics", ("airflow", "CFD"),
     "Computer-based fluid mechanics that determine the behaviour of fluids in motion."),
    ("SPARK", (), "The computer language SPARK, a formally defined subset of Ada."),
    ("sparkling wines", ("sparkling wine",), "The wide variety of sparkling wines and how they "
                                             "are made."),
    ("analyse big data", ("big data analysis",),
     "Collect and evaluate numerical data in large quantities to find patterns."),
    ("data extraction, transformation and loading tools", ("ETL tools",),
     "Tools that integrate information from several applications into one data structure."),
    ("manage ICT virtualisation environments", ("manage virtualisation environments",),
     "Oversee tools used to enable virtual environments, such as containers and hypervisors."),
    # near-duplicate concepts (inference/skills/diversity.py)
    ("communication", ("communicating",), "Exchanging information, ideas and feelings."),
    ("communicate effectively", ("communicate well",), "Exchange information clearly."),
]


def make_skill_catalog() -> SkillCatalog:
    skills = [
        Skill(uri=f"http://data.europa.eu/esco/skill/test-{i:03d}", label=label,
              alt_labels=alts, description=description,
              skill_type=SkillType.SKILL)
        for i, (label, alts, description) in enumerate(SKILLS)
    ]
    return SkillCatalog(skills=skills)


def make_skill_engine(encoder: TextEncoder, config: EngineConfig | None = None) -> SkillEngine:
    catalog = make_skill_catalog()
    return SkillEngine(SkillIndex.build(catalog, encoder), encoder, config or EngineConfig())


def uri_of(engine: SkillEngine, label: str) -> str:
    return engine.catalog.skills[engine.catalog.label_to_index[label]].uri


def load_small_engine() -> SkillEngine:
    """The small engine, loaded from scratch (a Ray actor's setup: `training.batch`)."""
    from features.settings import PACKAGED_ENCODER
    from inference.skills.encoder import load_encoder

    return make_skill_engine(load_encoder(PACKAGED_ENCODER))

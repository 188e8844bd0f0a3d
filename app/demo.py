"""Demo data: one account per role and a living hub, loaded idempotently by natural keys."""
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import create_user, save_profile
from app.agenda.demo import load_agenda_demo
from app.blog.demo import load_blog_demo
from app.directory.importer import import_sites
from app.extensions import db
from app.forum.demo import load_forum_demo
from app.groups.models import Group
from app.groups.services import create_group, set_membership, slugify
from app.guidelines.importer import import_guidelines
from app.search.indexer import rebuild
from app.trials.importer import import_trials

DEMO_USERS = [
    # email, display name, role, site role, profile
    ("admin@demo.oncollab.eu", "Ada Admin", "other", "admin", {}),
    ("moderator@demo.oncollab.eu", "Milan Moderator", "nurse", "moderator", {"profession": "Oncology nurse", "country": "CZ"}),
    ("patient@demo.oncollab.eu", "Paula Patient", "patient", "member", {"country": "ES", "interests": "Lung cancer, exercise during treatment"}),
    ("carer@demo.oncollab.eu", "Carlos Carer", "carer", "member", {"country": "PT"}),
    ("clinician@demo.oncollab.eu", "Dr Clara Klein", "clinician", "member", {"profession": "Medical oncologist", "specialty": "Thoracic oncology", "centre": "Gustave Roussy, Villejuif", "country": "FR"}),
    ("nurse@demo.oncollab.eu", "Nina Nurse", "nurse", "member", {"profession": "Cancer nurse", "country": "IE"}),
    ("researcher@demo.oncollab.eu", "Rui Researcher", "researcher", "member", {"profession": "Translational researcher", "country": "IT"}),
    ("staff@demo.oncollab.eu", "Stefan Staff", "centre_staff", "member", {"centre": "Netherlands Cancer Institute", "country": "NL"}),
    ("trainee@demo.oncollab.eu", "Tomas Trainee", "clinician", "member", {"profession": "Resident", "training_specialty": "radiation_oncology", "home_centre": "Vilnius University Hospital", "training_cohort": "INTERACT-EUROPE 100, cohort 1", "country": "LT"}),
]


def load_demo() -> list[str]:

    password = demo_password()
    report = []
    for email, name, role, site_role, profile in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(email=email, display_name=name, password=password, role=role,
                               confirmed=True, site_role=site_role, country=profile.get("country"))
            save_profile(user, {key: (value, None) for key, value in profile.items()})
            report.append(f"created   {site_role:9} {role:12} {email}")
        else:
            report.append(f"exists    {site_role:9} {role:12} {email}")
    report.append(f"Password for every demo account above: {password}")
    users_by_email = {user.email: user for user in db.session.scalars(
        select(User).where(User.email.in_([row[0] for row in DEMO_USERS])))}
    report += _load_groups(users_by_email)
    report.append(load_public_data())
    report += load_forum_demo()
    report += load_agenda_demo()
    report += load_blog_demo()
    report.append(_build_search_index())
    return report


def _build_search_index() -> str:
    """Importers touch rows outside the session hooks (bulk updates), so the demo ends with a full
    rebuild; it runs beside the live index and swaps, so a rerun is harmless."""
    count = rebuild(current_app.config["SEARCH_INDEX_DIR"])
    return f"search    index rebuilt: {count} rows"


_D = "@demo.oncollab.eu"
# name, kind, owner, tags, country, network, description, members [(email, state, role)]
DEMO_GROUPS = [
    ("Living with lung cancer", "open", "patient", ["lung-cancer", "support", "nsclc"], None, "patient_org",
     "A place for people living with lung cancer, and those close to them, to share what helps: side "
     "effects, fatigue, work, exercise during treatment, scans and the waiting around them.\n\n"
     "**Please remember:** we share experience, not medical advice. Talk to your care team about your "
     "treatment.",
     [("carer", "member", "member"), ("nurse", "member", "moderator"), ("clinician", "member", "member")]),
    ("Radiation oncology trainees — cohort 1", "closed", "trainee", ["radiation-oncology", "training", "cohort-1"],
     None, "interact_europe",
     "The first cohort of radiation oncology trainees in the inter-specialty cancer training programme "
     "across 100 cancer centres. Rotation planning, contouring questions, journal club and the "
     "e-learning modules.\n\nMembers are trainees and their mentors; ask to join with your home centre.",
     [("clinician", "member", "moderator"), ("researcher", "pending", "member")]),
    ("CCC thematic area: survivorship", "closed", "researcher", ["survivorship", "quality-of-life", "ccc"],
     None, "eunetccc_thematic",
     "Working space of the survivorship thematic area of the network of Comprehensive Cancer Centres: "
     "survivorship care plans, late effects clinics, return to work, and the twinning visits between "
     "centres.",
     [("nurse", "member", "member"), ("clinician", "member", "member"), ("staff", "member", "moderator")]),
    ("Carers' circle", "open", "carer", ["carers", "support", "respite"], "PT", "",
     "For partners, parents, children and friends who care for someone with cancer. Practical tips, "
     "bad days and good ones, and how to look after yourself too.",
     [("patient", "member", "member")]),
    ("Cancer Mission Hub Ireland", "open", "nurse", ["mission-hub", "policy", "patient-involvement"], "IE",
     "mission_hub",
     "The national hub of the EU Cancer Mission for Ireland: events, consultations and ways for patients, "
     "carers and professionals to take part.",
     [("patient", "member", "member")]),
    ("Tumour board coordinators", "secret", "moderator", ["tumour-boards", "coordination"], None, "eunetccc",
     "Coordinators of multidisciplinary tumour boards share templates, scheduling practice and case "
     "preparation checklists. Invitation only.",
     [("staff", "member", "member")]),
]


def _load_groups(users_by_email: dict) -> list[str]:
    """Demo groups, found again by slug on a rerun (nothing is changed then)."""

    report = []
    for name, kind, owner, tags, country, network, description, members in DEMO_GROUPS:
        slug = slugify(name)
        if db.session.scalar(select(Group.id).where(Group.slug == slug)) is not None:
            report.append(f"exists    group    {kind:8} {slug}")
            continue
        group = create_group(users_by_email[owner + _D], name=name, kind=kind, description=description,
                             tags=tags, country=country, network=network)
        for who, state, role in members:
            membership = set_membership(group, users_by_email[who + _D], state=state, role=role)
            if state == "pending":  # a request waiting in the owner's queue
                membership.request_message = ("I am starting radiotherapy research at my centre and would "
                                              "like to follow the cohort's journal club.")
                db.session.commit()
        report.append(f"created   group    {kind:8} {group.slug} ({len(members) + 1} people)")
    return report


def load_public_data() -> str:
    """The project's data/ files (trials first, so sites named after investigators are recognised);
    every importer is idempotent, so a rerun adds nothing."""
    from config import BASE_DIR

    data = BASE_DIR / "data"
    trials = import_trials(data / "ctgov_v2_nsclc_studies.json")
    sites = import_sites(data / "oncology_trial_sites.csv")
    guidelines = import_guidelines(data / "nccn_guidelines_index.csv")
    return (f"data      trials +{len(trials.added)} ~{len(trials.updated)} ={trials.unchanged}; "
            f"centres +{sites.added} ~{sites.updated} ={sites.unchanged} ({len(sites.merges)} names merged); "
            f"guidelines +{guidelines.added} ~{guidelines.updated} ={guidelines.unchanged}")


def demo_password() -> str:
    """Random per installation (no well-known default), kept in instance/ so reruns print the same."""
    path = Path(current_app.instance_path) / "demo_password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()

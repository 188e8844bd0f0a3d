"""Demo blog posts, written through the same service as real ones and loaded idempotently (found
again by author and title on a rerun). The tone is the community's: experience shared with care,
decisions left to each person's care team."""
from sqlalchemy import select

from app.accounts.models import User
from app.blog import services
from app.blog.models import BlogPost
from app.extensions import db
from app.groups.models import Group

_D = "@demo.oncollab.eu"

# (author, group slug or None, visibility, title, body)
POSTS = [
    ("patient", None, "public", "Starting immunotherapy: my first three cycles",
     "Three months ago my oncologist suggested immunotherapy for my lung cancer. I was scared of the word, "
     "so I am writing down what the first three cycles were actually like, in case it helps someone "
     "waiting for their first infusion.\n\n"
     "## The infusion days\n\n"
     "- Each infusion took about an hour; the waiting before it took longer. Bring a book and a snack.\n"
     "- The nurses checked my blood and asked about rash, cough and diarrhoea every time. "
     "**Tell them everything**, even small things: some side effects are easier to treat early.\n\n"
     "## In between\n\n"
     "I was more tired than I expected in the first week after each cycle, and my skin itched. "
     "Short walks helped me more than resting all day.\n\n"
     "> What helped me may not suit you: talk to your own care team about your treatment.\n\n"
     "If you are about to start, feel free to say hello in the *Living with lung cancer* group."),
    ("clinician", None, "members", "Managing immune-related side effects: notes for colleagues",
     "A short summary from our thoracic oncology team meeting, for clinicians and nurses who follow "
     "patients on checkpoint inhibitors between visits.\n\n"
     "1. Ask specifically about new cough or breathlessness, diarrhoea, rash and fatigue at every contact.\n"
     "2. Check thyroid function regularly; hypothyroidism is common and usually easy to manage.\n"
     "3. Give patients a written card with the number to call: delays are the main risk.\n\n"
     "Comments from other centres on how you organise telephone triage are very welcome."),
    ("trainee", "radiation-oncology-trainees-cohort-1", "group", "Journal club, month 1: hypofractionation",
     "Thanks to everyone who joined the first journal club. The slides and reading list are in the "
     "forum topic. Next month we look at stereotactic radiotherapy for oligometastatic disease; "
     "please volunteer to present a paper."),
]


def load_blog_demo() -> list[str]:
    report = []
    for who, group_slug, visibility, title, body in POSTS:
        author = db.session.scalar(select(User).where(User.email == who + _D))
        group = db.session.scalar(select(Group).where(Group.slug == group_slug)) if group_slug else None
        if author is None or (group_slug and group is None):
            report.append(f"skipped   blog     {title} (author or group missing)")
            continue
        exists = db.session.scalar(select(BlogPost.id).where(BlogPost.author_id == author.id, BlogPost.title == title))
        if exists is not None:
            report.append(f"exists    blog     {visibility:8} {title}")
            continue
        services.create_post(author, title=title, body=body, visibility=visibility, group=group)
        report.append(f"created   blog     {visibility:8} {title}")
    return report

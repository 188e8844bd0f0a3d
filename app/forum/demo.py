"""Demo forum content, written through the same services as real posts and loaded idempotently
(categories by slug, topics by title within their home). The tone is the one we want from the
community: experience shared with care, and decisions left to each person's care team."""
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.forum import services
from app.forum.models import Category, Post, Topic, slugify
from app.groups.models import Group, Membership
from app.models_base import utcnow

CATEGORIES = [
    ("Introductions", "Say hello: who you are and what brings you to Oncollab."),
    ("Living with cancer", "Day-to-day life during and after treatment: work, family, food, sleep and feelings."),
    ("Treatments and side effects", "Experiences of treatments and of coping with side effects. Shared experience is "
                                    "not medical advice: talk to your care team about your own treatment."),
    ("Clinical trials", "Finding, understanding and taking part in clinical trials."),
    ("For professionals", "Clinicians, nurses, researchers and trainees: training, rotations, practice and research."),
    ("Site feedback", "What works, what does not, and what you would like to see on Oncollab."),
]

P, C, CL, N, R, S, T, M = ("patient", "carer", "clinician", "nurse", "researcher", "staff", "trainee", "moderator")

# (category, title, [(author, body, number of the post it quotes or None), ...], pinned); the first
# entry opens the topic.
TOPICS = [
    ("Site feedback", "Welcome to the forum: how we talk here", [
        (M, "Welcome! A few things that keep this a good place:\n\n"
            "- **Be kind.** Everyone here is dealing with something hard.\n"
            "- **Share experience, not prescriptions.** What helped you may not suit someone else; "
            "decisions about treatment belong with each person's care team.\n"
            "- **Protect privacy**: yours and others'. Please do not post names of other patients, phone numbers "
            "or addresses.\n"
            "- If something worries you, tell a moderator.\n\nThank you for being here.", None),
    ], True),
    ("Introductions", "Hello from Valencia", [
        (P, "Hi everyone, I'm Paula. I was diagnosed with lung cancer last spring and started immunotherapy in "
            "the autumn. I'm hoping to meet people who have been through something similar, and to learn how "
            "others keep going with exercise during treatment.", None),
        (C, "Welcome, Paula! I help look after my father, who is having treatment in Lisbon. It really helps "
            "to talk to people who understand.", None),
        (N, "Welcome to Oncollab, Paula. Lovely to hear you are interested in staying active: the "
            "*Living with cancer* category has a few threads about it.", None),
    ], False),
    ("Treatments and side effects", "Fatigue on immunotherapy: how do you cope?", [
        (P, "I'm on immunotherapy every three weeks. The tiredness is the hardest part: some afternoons I can "
            "barely get off the sofa. Does it get easier? What has helped you?", None),
        (N, "Many people describe fatigue during immunotherapy, so you are not alone. Things patients often "
            "tell me help: short walks on good days, planning the most important task for the time of day "
            "when you have most energy, and accepting help with the rest.\n\n"
            "Please do mention it to your oncology team, especially if it is new or getting worse: they may "
            "want to check a few things, and they know your history.", None),
        (CL, "Thanks, Nina. Speaking generally and not about anyone's own case: fatigue is commonly reported "
             "with checkpoint inhibitors, and care teams want to hear about it rather than have people put up "
             "with it quietly. Your own team is the right place to decide what to look into.", None),
        (P, "Thank you both. I'll bring it up at my next appointment instead of waiting.", 3),
    ], False),
    ("Living with cancer", "Caring and working: how do you balance it?", [
        (C, "Since my father's treatment started I'm trying to keep my job going while taking him to most "
            "appointments. Some weeks it works, some weeks it doesn't. How do other carers manage?", None),
        (S, "At our centre the social work team can help with letters for employers and with information on "
            "carers' leave. It may be worth asking whether your father's hospital has something similar.", None),
        (P, "From the other side: it meant a lot to me when my sister said which days she *could* help, instead "
            "of trying to do everything. Look after yourself too, Carlos.", None),
    ], False),
    ("Clinical trials", "How do I find out if there is a trial for my father?", [
        (C, "My father's oncologist mentioned clinical trials once, very briefly. Where do we even start?", None),
        (R, "A good start is the trials section here: you can filter by condition, phase and country, and each "
            "record links to the official registry. Eligibility criteria are detailed, so the most useful "
            "next step is to bring a short list to the treating oncologist and ask whether any could fit.\n\n"
            "@[Dr Clara Klein] may be able to say how teams usually approach this conversation.", None),
        (CL, "Rui is right: bring the list and your questions. Teams are used to this conversation, and some "
             "centres have a trial nurse or coordinator you can ask to speak with.", None),
    ], False),
    ("For professionals", "Rotation at a partner centre: tips?", [
        (T, "I'm a radiation oncology resident in the INTERACT-EUROPE cohort, planning a four-week rotation at "
            "a partner comprehensive cancer centre next year. Anyone done this? What should I sort out early?", None),
        (CL, "We host trainees regularly. Practical tips: contact the host supervisor early and agree learning "
             "goals in writing; check which tumour boards and clinics you can join; and ask about observer "
             "status and language early, as paperwork can take time.", None),
        (M, "Also worth asking your home programme how the rotation will be recognised. Enjoy it!", None),
    ], False),
]

EMAILS = {P: "patient", C: "carer", CL: "clinician", N: "nurse", R: "researcher", S: "staff", T: "trainee",
          M: "moderator"}


def _demo_user(key):
    return db.session.scalar(select(User).where(User.email == f"{EMAILS[key]}@demo.oncollab.eu"))


def load_forum_demo() -> list[str]:
    report = []
    categories = {}
    for position, (name, description) in enumerate(CATEGORIES):
        category = db.session.scalar(select(Category).where(Category.slug == slugify(name)))
        if category is None:
            category = services.create_category(name=name, description=description, position=position)
            report.append(f"created   category {name}")
        categories[name] = category
    clinician = _demo_user(CL)
    if clinician is not None and clinician.verified_at is None:
        clinician.verified_at = utcnow()  # so the demo shows a verified professional badge
        db.session.commit()
    for age, (home, title, posts, pinned) in enumerate(TOPICS):
        category = categories[home]
        if db.session.scalar(select(Topic.id).where(Topic.category_id == category.id, Topic.title == title)):
            continue
        topic = _write(title, posts, category=category, days_ago=len(TOPICS) - age)
        if topic is not None:
            topic.pinned = pinned
            db.session.commit()
            report.append(f"created   topic    {title}")
    report += _group_topics()
    return report


def _write(title, posts, *, category=None, group=None, days_ago=1):
    authors = [_demo_user(key) for key, _body, _quote in posts]
    if any(author is None for author in authors):
        return None
    (_key, body, _quote), *replies = posts
    topic = services.create_topic(authors[0], title=title, body=body, category=category, group=group)
    written = [db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == 1))]
    for author, (_key, reply_body, quote) in zip(authors[1:], replies):
        quoted = written[quote - 1] if quote else None
        text = services.quote_text(quoted) + reply_body if quoted else reply_body
        written.append(services.create_reply(topic, author, body=text, quote_of=quoted))
    # Spread the conversation over time so the demo reads like a living forum.
    start = utcnow() - timedelta(days=days_ago, hours=3)
    for n, post in enumerate(written):
        post.created_at = start + timedelta(hours=5 * n)
    topic.created_at = start
    topic.last_post_at = written[-1].created_at
    db.session.commit()
    return topic


def _group_topics() -> list[str]:
    """A welcome thread in every demo group (groups owned by demo accounts), if any exist."""
    report = []
    groups = db.session.scalars(select(Group).join(User, User.id == Group.owner_id)
                                .where(User.email.like("%@demo.oncollab.eu"), Group.archived_at.is_(None))).all()
    for group in groups:
        title = f"Welcome to {group.name}"[:200]
        if db.session.scalar(select(Topic.id).where(Topic.group_id == group.id, Topic.title == title)):
            continue
        topic = services.create_topic(group.owner, title=title, body=(
            "Hello and welcome! This forum is for the members of this group. Introduce yourself if you like, "
            "and start a topic whenever you have a question or something to share.\n\n"
            "A reminder: experiences shared here are not medical advice. Please talk to your care team about "
            "your own situation."), group=group)
        other = db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.group_id == group.id, Membership.state == "member", User.id != group.owner_id).limit(1))
        if other is not None:
            services.create_reply(topic, other, body="Thanks for setting this up. Hello everyone!")
        report.append(f"created   topic    {title} (group {group.slug})")
    return report

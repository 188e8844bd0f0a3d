"""Demo events, created through the same service as real ones and found again by title on a rerun
(nothing is changed then). Dates are relative to the first load, so a fresh demo always has a
calendar ahead of it."""
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.agenda.models import Event
from app.agenda.services import EventInput, create_event
from app.directory.models import Centre
from app.extensions import db
from app.groups.models import Group
from app.models_base import utcnow

_D = "@demo.oncollab.eu"

# (title, organiser, kind, days ahead, start "HH:MM" or None for all day, length (hours, or days when
#  all day), time zone, group name or None, visibility, centre slug or None, place (location, city,
#  country), online link, description)
EVENTS = [
    ("European Thoracic Oncology Congress (demo edition)", "clinician", "congress", 35, None, 4, "UTC", None,
     "public", None, ("Fira Gran Via, Avinguda Joan Carles I 64", "Barcelona", "ES"), "",
     "Four days of plenaries, proffered papers and educational sessions on lung cancer and other thoracic "
     "malignancies, in the style of the large European society congresses.\n\n"
     "- **Day 1:** screening and early detection\n- **Day 2:** targeted therapy and immunotherapy\n"
     "- **Day 3:** radiotherapy and surgery\n- **Day 4:** survivorship and patient advocacy\n\n"
     "Patient advocates have a reduced fee; ask the organisers."),
    ("CCC network webinar: survivorship care plans in practice", "researcher", "webinar", 21, "14:00", 1.5,
     "Europe/Brussels", None, "public", None, ("", "", None), "https://webinar.example.org/ccc-survivorship",
     "A thematic webinar of the network of Comprehensive Cancer Centres. Three centres show how they write "
     "survivorship care plans with their patients, and what changed for general practitioners.\n\n"
     "Open to everyone; slides will be shared with the survivorship thematic area group."),
    ("Peer support evening: life after treatment", "nurse", "support_meeting", 12, "18:30", 1.5,
     "Europe/Dublin", "CCC thematic area: survivorship", "group", None, ("", "", None),
     "https://meet.example.org/peer-support",
     "A relaxed online evening for people who finished treatment in the last two years, led by two "
     "survivorship nurses. Cameras optional. We talk about fatigue, fear of recurrence and going back to "
     "work.\n\nThis is not a medical consultation: talk to your care team about your own care."),
    ("Thoracic tumour board masterclass at Gustave Roussy", "clinician", "course", 48, "09:00", 8, "Europe/Paris",
     None, "public", "gustave-roussy-villejuif", ("114 rue Édouard-Vaillant", "Villejuif", "FR"), "",
     "A one-day course for trainees and young specialists: how a multidisciplinary thoracic tumour board "
     "prepares, discusses and documents a case. Live sessions with the board, then small-group case work.\n\n"
     "Part of the inter-specialty training programme; places are limited."),
    ("INTERACT-EUROPE trainees: rotation planning meeting", "trainee", "meeting", 27, "17:00", 1, "Europe/Vilnius",
     None, "members", None, ("", "", None), "https://meet.example.org/interact-rotations",
     "Trainees of cohort 1 compare rotation plans for the coming semester and match exchange visits "
     "between centres. For signed-in members only."),
    ("Living with lung cancer: online coffee morning", "patient", "support_meeting", 9, "10:30", 1, "Europe/Madrid",
     "Living with lung cancer", "group", None, ("", "", None), "https://meet.example.org/coffee-morning",
     "Bring a cup of something warm and say hello. No agenda: whoever comes decides what we talk about."),
]


def load_agenda_demo() -> list[str]:
    from datetime import datetime, time

    report = []
    today = utcnow().date()
    for (title, who, kind, days, start, length, zone, group_name, visibility, centre_slug, place, link,
         description) in EVENTS:
        if db.session.scalar(select(Event.id).where(Event.title == title)) is not None:
            report.append(f"exists    event    {title}")
            continue
        organiser = db.session.scalar(select(User).where(User.email == who + _D))
        group = db.session.scalar(select(Group).where(Group.name == group_name)) if group_name else None
        centre = db.session.scalar(select(Centre).where(Centre.slug == centre_slug)) if centre_slug else None
        first = today + timedelta(days=days)
        if start is None:
            data_times = dict(all_day=True, start_date=first, end_date=first + timedelta(days=length - 1))
        else:
            begin = datetime.combine(first, time.fromisoformat(start))
            end = begin + timedelta(hours=length)
            data_times = dict(all_day=False, start_date=first, start_time=begin.time(), end_date=end.date(),
                              end_time=end.time())
        location, city, country = place
        event = create_event(organiser, EventInput(
            title=title, description=description, kind=kind, timezone=zone, location=location, city=city,
            country=country, online_url=link, centre_id=centre.id if centre else None,
            visibility="public" if visibility == "group" else visibility, **data_times), group=group)
        report.append(f"created   event    {event.kind:15} {title}")
    return report

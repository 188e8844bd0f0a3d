"""Seed a topic with N replies and print the URLs and a signed-in cookie for bench.pages."""
import sys

from sqlalchemy import select

from app.accounts.models import User, UserSession
from app.extensions import db
from app.forum.models import Category, Post, Topic
from app.forum.services import create_reply, create_topic
from wsgi import app


def main(replies: int) -> None:
    with app.app_context():
        users = list(db.session.scalars(select(User).order_by(User.id)))
        category = db.session.scalars(select(Category).order_by(Category.position)).first()
        topic = create_topic(users[0], title=f"Bench topic with {replies} replies",
                             body="A long-running discussion.", category=category)
        for n in range(replies):
            create_reply(topic, users[n % len(users)], body=f"Reply **{n}** with a [link](https://example.org/{n}).")
        session_row = UserSession(user=users[2], user_agent="bench")
        db.session.add(session_row)
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        cookie = serializer.dumps({"_user_id": session_row.token, "_fresh": True})
        last_page = (replies + 1 + 19) // 20
        paths = ["/", "/forum", f"/forum/c/{category.slug}", f"/t/{topic.id}", f"/t/{topic.id}?page={last_page}", "/groups"]
        print(f"PATHS={','.join(paths)}")
        print(f"COOKIE={app.config.get('SESSION_COOKIE_NAME', 'session')}={cookie}")
        assert db.session.scalar(select(Post.id).where(Post.topic_id == topic.id, Post.number == replies + 1))
        assert db.session.get(Topic, topic.id).post_count == replies + 1


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)

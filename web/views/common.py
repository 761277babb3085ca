"""Small pieces several views share: loading an object the person may see, and acting on it."""
from flask import abort, redirect, request, url_for
from flask_login import current_user

from engine import find_visible
from engine import KINDS

from ..security import local_path


def me():
    return current_user.user


def visible(object_type, object_id):
    """The object, if it exists and the signed-in person may see it; otherwise 404, the same page either way
    (engine.find_visible)."""
    if object_type not in KINDS:
        abort(404)
    return find_visible(me(), object_type, object_id)


def object_url(object_type, record_id):
    return url_for('review.detail', object_type=object_type, object_id=record_id)


def back(default):
    return redirect(local_path(request.form.get('back')) or default, 303)
